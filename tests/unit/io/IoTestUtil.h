// Shared helpers of the trace I/O tests: private temporary directories, error
// checks, deterministic random bits, little-endian byte builders.
#pragma once

#include "lfc/io.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>

#include <unistd.h>

namespace lfc::iotest {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed with the object.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("lfc-io-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() { fs::remove_all(dir_); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const fs::path &path() const { return dir_; }
  std::string file(const std::string &name) const {
    return (dir_ / name).string();
  }

private:
  fs::path dir_;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// Runs `fn`, expecting lfc::Error whose message holds every one of `parts`;
/// returns the message.
inline std::string expectError(const std::function<void()> &fn,
                               std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const Error &e) {
    std::string msg = e.what();
    for (const std::string &p : parts)
      EXPECT_NE(msg.find(p), std::string::npos)
          << "message lacks \"" << p << "\":\n  " << msg;
    return msg;
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected lfc::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected lfc::Error, nothing was thrown";
  return "";
}

/// Little-endian bytes of v.
inline std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i)
    s += char((v >> (8 * i)) & 0xff);
  return s;
}

/// An array of random bits (every pattern, NaNs included) of `shape`.
inline HostArray randomArray(DType t, std::vector<int64_t> shape,
                             uint32_t seed) {
  HostArray a = HostArray::zeros(t, std::move(shape));
  std::mt19937 rng(seed);
  for (auto &b : a.bytes)
    b = uint8_t(rng());
  return a;
}

} // namespace lfc::iotest
