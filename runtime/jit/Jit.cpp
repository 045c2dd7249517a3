// NVRTC compilation with a content-addressed, atomically written disk cache.
#include "lfc/jit.h"

#include "lfc/backend.h"
#include "lfc/sha256.h"
#include "runtime/core/Files.h"
#include "runtime/jit/Nvrtc.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#ifndef LFC_KERNEL_TEMPLATES_DIR
#define LFC_KERNEL_TEMPLATES_DIR ""
#endif

namespace fs = std::filesystem;

namespace lfc {
namespace {

// Cache entry layout (little-endian), kEntryHeaderSize bytes of header, then
// the NVRTC log, then the CUBIN. The payload hash covers log + CUBIN, so any
// flipped or missing byte is caught before the CUBIN reaches the driver.
constexpr char kEntryMagic[8] = {'L', 'F', 'C', 'J', 'I', 'T', '\0', '\1'};
constexpr uint32_t kEntryVersion = 1;
constexpr size_t kEntryHeaderSize = 8 + 4 + 4 + 64 + 8 + 8 + 32;
// Bumped when anything that changes the compiled output but is not in the key
// changes.
constexpr const char *kKeySalt = "lfc-jit-key-v1";

std::string trimLog(const char *data, size_t size) {
  std::string log(data, size);
  while (!log.empty() &&
         (log.back() == '\0' || std::isspace((unsigned char)log.back())))
    log.pop_back();
  return log;
}

// Every header reachable through #include directives, by include spelling, in
// discovery order. Directives inside #if blocks are followed too: hashing a
// header that is not compiled only costs a spurious cache miss, while missing
// one would serve stale code.
struct HeaderScanner {
  const std::vector<std::string> &includeDirs;
  std::set<std::string> visited;                          // canonical paths
  std::vector<std::pair<std::string, std::string>> found; // (spelling, content)
  std::vector<std::string> unresolved;

  void scan(const std::string &text, const fs::path &fromDir) {
    static const std::regex directive(
        R"(^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"])");
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, directive))
        continue;
      bool quoted = m[1] == "\"";
      std::string spelling = m[2];
      fs::path resolved;
      if (quoted && !fromDir.empty() && fs::is_regular_file(fromDir / spelling))
        resolved = fromDir / spelling;
      for (size_t i = 0; resolved.empty() && i < includeDirs.size(); ++i)
        if (fs::is_regular_file(fs::path(includeDirs[i]) / spelling))
          resolved = fs::path(includeDirs[i]) / spelling;
      if (resolved.empty()) {
        // A toolkit or NVRTC built-in header: its version is covered by the
        // NVRTC version.
        unresolved.push_back(spelling);
        continue;
      }
      std::error_code ec;
      fs::path canonical = fs::weakly_canonical(resolved, ec);
      if (!visited.insert((ec ? resolved : canonical).string()).second)
        continue;
      std::string content;
      if (!lfc::detail::readWholeFile(resolved.string(), content))
        throw Error("jit: cannot read header '" + resolved.string() + "'");
      found.emplace_back(spelling, content);
      scan(content, resolved.parent_path());
    }
  }
};

std::string sanitizeForFileName(const std::string &s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.')
               ? c
               : '_';
  return out.substr(0, 96);
}

void putU32(std::string &s, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s += char(v >> (8 * i));
}
void putU64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s += char(v >> (8 * i));
}
uint64_t getLE(const std::string &s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t(uint8_t(s[at + i])) << (8 * i);
  return v;
}

std::array<uint8_t, 32> payloadHash(const std::string &log,
                                    const std::vector<char> &cubin) {
  Sha256 h;
  h.update(log);
  h.update(cubin.data(), cubin.size());
  return h.digest();
}

// Returns "" and fills log/cubin when `bytes` is a valid entry for `key`, else
// the reason.
std::string parseEntry(const std::string &bytes, const std::string &key,
                       std::string &log, std::vector<char> &cubin) {
  if (bytes.size() < kEntryHeaderSize)
    return "truncated header (" + std::to_string(bytes.size()) + " bytes)";
  if (std::memcmp(bytes.data(), kEntryMagic, sizeof kEntryMagic) != 0)
    return "not an lfc cache entry (bad magic)";
  if (getLE(bytes, 8, 4) != kEntryVersion)
    return "entry format version " + std::to_string(getLE(bytes, 8, 4)) +
           ", expected " + std::to_string(kEntryVersion);
  if (bytes.compare(16, 64, key) != 0)
    return "entry belongs to another key";
  uint64_t logLen = getLE(bytes, 80, 8), cubinLen = getLE(bytes, 88, 8);
  if (logLen > bytes.size() || cubinLen > bytes.size() ||
      bytes.size() != kEntryHeaderSize + logLen + cubinLen)
    return "size " + std::to_string(bytes.size()) +
           " does not match the header (truncated?)";
  if (cubinLen == 0)
    return "empty CUBIN";
  log.assign(bytes, kEntryHeaderSize, logLen);
  cubin.assign(bytes.begin() + kEntryHeaderSize + logLen, bytes.end());
  auto digest = payloadHash(log, cubin);
  if (std::memcmp(digest.data(), bytes.data() + 96, 32) != 0)
    return "payload hash mismatch (corrupt)";
  return "";
}

void writeEntryAtomically(const fs::path &path, const std::string &key,
                          const std::string &log,
                          const std::vector<char> &cubin) {
  std::string bytes(kEntryMagic, sizeof kEntryMagic);
  putU32(bytes, kEntryVersion);
  putU32(bytes, 0);
  bytes += key;
  putU64(bytes, log.size());
  putU64(bytes, cubin.size());
  auto digest = payloadHash(log, cubin);
  bytes.append(reinterpret_cast<const char *>(digest.data()), digest.size());
  bytes += log;
  bytes.append(cubin.data(), cubin.size());

  // A unique temporary name per writer (process, thread, call), then rename(2),
  // which replaces the target atomically: readers see the old entry or the new
  // one, never a mix, and concurrent writers of the same key each install a
  // complete, identical entry.
  static std::atomic<uint64_t> counter{0};
  std::ostringstream tmpName;
  tmpName << path.filename().string() << ".tmp." << getpid() << "."
          << std::hash<std::thread::id>{}(std::this_thread::get_id()) << "."
          << counter++;
  fs::path tmp = path.parent_path() / tmpName.str();
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw Error("jit: cannot write cache entry '" + tmp.string() +
                "': " + std::strerror(errno) +
                " (set LFC_CACHE_DIR to a writable directory)");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fflush(f) == 0 && ok;
  ok = fsync(fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw Error("jit: cannot write cache entry '" + path.string() +
                "': " + std::strerror(err));
  }
}

} // namespace

void validateArch(const std::string &arch) {
  static const std::regex pattern("sm_[0-9]{2,3}[af]?");
  if (!std::regex_match(arch, pattern))
    throw Error("jit: invalid arch '" + arch +
                "': expected a real architecture such as sm_80, sm_90a, "
                "sm_100a or sm_120");
}

std::string archForDevice(int major, int minor) {
  // The "a" variants unlock the architecture-specific instructions the fast
  // kernels use (wgmma on 9.0, tcgen05 on 10.0); their CUBINs run only on that
  // exact architecture, which is what a JIT for the present device wants.
  std::string arch = "sm_" + std::to_string(major) + std::to_string(minor);
  if ((major == 9 || major == 10) && minor == 0)
    arch += "a";
  return arch;
}

std::string defaultKernelIncludeDir() {
  if (const char *dir = std::getenv("LFC_KERNEL_INCLUDE_DIR"); dir && *dir)
    return dir;
  return LFC_KERNEL_TEMPLATES_DIR;
}

std::string defaultCacheDir() {
  if (const char *dir = std::getenv("LFC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/lfc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/lfc";
  throw Error("jit: no cache directory: set LFC_CACHE_DIR (HOME is not set)");
}

bool nvrtcAvailable(std::string *whyNot) {
  return detail::loadNvrtc(whyNot) != nullptr;
}

std::string nvrtcVersion() {
  std::string why;
  const detail::NvrtcApi *api = detail::loadNvrtc(&why);
  if (!api)
    throw Error("jit: " + why);
  return std::to_string(api->major) + "." + std::to_string(api->minor);
}

JitResult jitCompile(const JitRequest &req) {
  if (req.kernelName.empty())
    throw Error("jit: JitRequest.kernelName is empty");
  validateArch(req.arch);
  std::string why;
  const detail::NvrtcApi *api = detail::loadNvrtc(&why);
  if (!api)
    throw Error("jit: kernel '" + req.kernelName + "': " + why);
  for (const std::string &dir : req.includeDirs)
    if (!fs::is_directory(dir))
      throw Error("jit: kernel '" + req.kernelName + "': include directory '" +
                  dir + "' does not exist");

  std::vector<std::string> options = {"-std=c++17",
                                      "--gpu-architecture=" + req.arch};
  for (const std::string &dir : req.includeDirs)
    options.push_back("-I" + dir);
  options.insert(options.end(), req.options.begin(), req.options.end());

  JitResult result;
  Sha256 keyHash;
  keyHash.updateField(kKeySalt);
  keyHash.updateField(req.kernelName);
  keyHash.updateField(req.arch);
  keyHash.updateField(std::to_string(api->major) + "." +
                      std::to_string(api->minor));
  // Include paths are left out of the key on purpose: the content of every
  // header they resolve is in it, so a plan or cache directory can move without
  // invalidating entries.
  for (const std::string &opt : req.options)
    keyHash.updateField(opt);
  keyHash.updateField(req.source);
  HeaderScanner scanner{req.includeDirs, {}, {}, {}};
  scanner.scan(req.source, fs::path());
  for (const auto &[spelling, content] : scanner.found) {
    keyHash.updateField(spelling);
    keyHash.updateField(content);
  }
  result.key = keyHash.hexDigest();

  fs::path entryPath;
  if (req.useCache) {
    fs::path dir = req.cacheDir.empty() ? defaultCacheDir() : req.cacheDir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      throw Error("jit: cannot create cache directory '" + dir.string() +
                  "': " + ec.message());
    entryPath = dir / (sanitizeForFileName(req.kernelName) + "." + req.arch +
                       "." + result.key.substr(0, 32) + ".lfcbin");
    result.cachePath = entryPath.string();
    std::string bytes;
    if (lfc::detail::readWholeFile(entryPath.string(), bytes)) {
      result.cacheRejected =
          parseEntry(bytes, result.key, result.log, result.cubin);
      if (result.cacheRejected.empty()) {
        result.cacheHit = true;
        return result;
      }
      result.cacheRejected = entryPath.string() + ": " + result.cacheRejected;
      result.log.clear();
      result.cubin.clear();
    }
  }

  auto start = std::chrono::steady_clock::now();
  std::string sourceName =
      req.sourceName.empty() ? req.kernelName + ".cu" : req.sourceName;
  nvrtcProgram prog = nullptr;
  nvrtcResult rc = api->createProgram(&prog, req.source.c_str(),
                                      sourceName.c_str(), 0, nullptr, nullptr);
  if (rc != NVRTC_SUCCESS)
    throw Error("jit: kernel '" + req.kernelName +
                "': nvrtcCreateProgram failed: " + api->getErrorString(rc));
  std::vector<const char *> argv;
  for (const std::string &o : options)
    argv.push_back(o.c_str());
  rc = api->compileProgram(prog, int(argv.size()), argv.data());
  size_t logSize = 0;
  std::string log;
  if (api->getProgramLogSize(prog, &logSize) == NVRTC_SUCCESS && logSize > 1) {
    std::vector<char> buf(logSize);
    if (api->getProgramLog(prog, buf.data()) == NVRTC_SUCCESS)
      log = trimLog(buf.data(), buf.size());
  }
  if (rc != NVRTC_SUCCESS) {
    api->destroyProgram(&prog);
    std::string opts;
    for (const std::string &o : options)
      opts += " " + o;
    throw Error("jit: kernel '" + req.kernelName + "' (" + sourceName + ", " +
                req.arch + "): NVRTC " + api->getErrorString(rc) +
                "\noptions:" + opts + "\n" + log);
  }
  size_t cubinSize = 0;
  rc = api->getCUBINSize(prog, &cubinSize);
  if (rc == NVRTC_SUCCESS && cubinSize > 0) {
    result.cubin.resize(cubinSize);
    rc = api->getCUBIN(prog, result.cubin.data());
  }
  api->destroyProgram(&prog);
  if (rc != NVRTC_SUCCESS || cubinSize == 0)
    throw Error("jit: kernel '" + req.kernelName + "' (" + req.arch +
                "): NVRTC produced no CUBIN (" +
                (rc != NVRTC_SUCCESS ? api->getErrorString(rc) : "size 0") +
                "); the arch must be a real sm_XY, not compute_XY");
  result.compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  result.log = log;
  if (req.useCache)
    writeEntryAtomically(entryPath, result.key, result.log, result.cubin);
  return result;
}

} // namespace lfc
