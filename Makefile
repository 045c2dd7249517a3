# lfc's two commands: `make demo` (the main job) and `make test` (all tests).
# Both install missing Debian packages first (idempotent), then configure and build.
#
#   make build              configure + build into build/ (binaries in build/bin/)
#   make demo               build, compile the default policy, run the demo
#   make test               build, run lit + GoogleTest, print the counts
#   make build COMPILER=OFF runtime only, no MLIR needed (the GPU machine: COMPILER=auto
#                           picks it there, and toml++ from .deps/root when the system
#                           has none)

BUILD_DIR ?= build
# ON: build the policy compiler (needs MLIR 19, installed when missing). auto (default): ON,
# except on a machine without MLIR that holds plans compiled elsewhere (.deps/plans, see
# scripts/compile-example-plans.sh): the GPU machine, which has no MLIR and no network.
COMPILER  ?= auto
BUILD_TYPE ?= Release
CMAKE_ARGS ?=
POLICY    ?= examples/policies/self_forcing_short.toml
# A directory holding toml++/toml.h, for machines without libtomlplusplus-dev (the GPU
# machine: scripts/fetch-gpu-deps.sh prepares .deps/root/usr/include).
TOMLPP_INCLUDE_DIR ?=
ifeq ($(TOMLPP_INCLUDE_DIR),)
ifeq ($(wildcard /usr/include/toml++/toml.h),)
ifneq ($(wildcard .deps/root/usr/include/toml++/toml.h),)
TOMLPP_INCLUDE_DIR := $(CURDIR)/.deps/root/usr/include
endif
endif
endif

ifeq ($(COMPILER),auto)
ifneq ($(wildcard /usr/lib/llvm-19/lib/cmake/mlir/MLIRConfig.cmake),)
override COMPILER := ON
else ifneq ($(wildcard .deps/plans/*/plan.toml),)
override COMPILER := OFF
else
override COMPILER := ON
endif
endif

ifeq ($(COMPILER),ON)
DEPS_MODE := compiler
MLIR_ARGS := -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py
else
DEPS_MODE := runtime
MLIR_ARGS :=
endif

.PHONY: all deps configure build test demo clean format

all: build

deps:
	@LFC_TOMLPP_INCLUDE_DIR=$(TOMLPP_INCLUDE_DIR) scripts/install-deps.sh $(DEPS_MODE)

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DLFC_ENABLE_COMPILER=$(COMPILER) -DLFC_TOMLPP_INCLUDE_DIR=$(TOMLPP_INCLUDE_DIR) \
	  $(MLIR_ARGS) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR)

test: build
	@scripts/run-tests.sh $(BUILD_DIR)

demo: build
	@scripts/demo.sh $(BUILD_DIR) $(POLICY)

format:
	@git ls-files '*.cpp' '*.h' '*.cuh' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
