# lit configuration for lfc's IR, pass, front-end and tool tests.
import os
import lit.formats

config.name = "lfc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".toml", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lfc_obj_root, "tests", "lit")

config.environment["PATH"] = os.pathsep.join(
    [config.lfc_tools_dir, config.llvm_tools_dir, "/usr/lib/llvm-19/bin", config.environment.get("PATH", os.environ["PATH"])]
)
config.substitutions.append(("%lfc_src", config.lfc_src_root))
config.substitutions.append(("%policies", os.path.join(config.lfc_src_root, "examples", "policies")))
