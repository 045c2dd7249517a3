// .safetensors reader and writer (lfc/io.h): an 8-byte little-endian header
// length N, N bytes of JSON ({"name": {"dtype", "shape", "data_offsets"}, ...,
// "__metadata__": {...}}), then the data section the offsets point into.
#include "runtime/io/Bytes.h"
#include "runtime/io/Json.h"

#include <algorithm>

namespace lfc {

using namespace io_detail;

const char *const kSafetensorsSupportedDtypes = "BF16, F16, F32";

namespace {

// The safetensors library refuses headers above 100 MB; so does lfc, before
// reading one.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

const char *dtypeToSt(DType t) {
  switch (t) {
  case DType::BF16:
    return "BF16";
  case DType::F16:
    return "F16";
  case DType::F32:
    return "F32";
  }
  return "?";
}

} // namespace

struct SafetensorsFile::Impl {
  std::shared_ptr<const ByteSource> src;
  uint64_t dataStart = 0;
  std::map<std::string, SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;

  void parse();
  std::string where(const std::string &tensor) const {
    return src->name() + ": tensor " + jsonQuote(tensor);
  }
};

void SafetensorsFile::Impl::parse() {
  const std::string &file = src->name();
  const uint64_t size = src->size();
  if (size < 8)
    throw Error(file + ": too short for a .safetensors file (" +
                std::to_string(size) +
                " bytes; expected an 8-byte little-endian header length, "
                "the JSON header and the data)");
  std::string pre = src->readString(0, 8);
  const uint64_t n = loadLE(reinterpret_cast<const uint8_t *>(pre.data()), 8);
  if (n > size - 8)
    throw Error(file + ": truncated header: its length field says " +
                std::to_string(n) + " bytes, only " + std::to_string(size - 8) +
                " bytes follow it");
  if (n > kMaxHeaderBytes)
    throw Error(file + ": header of " + std::to_string(n) +
                " bytes exceeds the limit of " +
                std::to_string(kMaxHeaderBytes) + " bytes");
  const std::string text = src->readString(8, n);
  dataStart = 8 + n;
  const uint64_t dataSize = size - dataStart;
  const std::string hdr = file + ": header";
  const JsonValue root = parseJson(text, hdr);
  auto at = [&](const JsonValue &v) {
    return " (at " + jsonLocation(text, v.offset) + ")";
  };
  if (root.kind != JsonValue::Kind::Object)
    throw Error(hdr + ": expected a JSON object of tensors, got " +
                JsonValue::kindName(root.kind));

  for (const auto &[name, v] : root.members) {
    if (name == "__metadata__") {
      if (v.kind != JsonValue::Kind::Object)
        throw Error(hdr + ": __metadata__ must be an object of strings, got " +
                    JsonValue::kindName(v.kind) + at(v));
      for (const auto &[k, mv] : v.members)
        if (mv.kind == JsonValue::Kind::String)
          metadata[k] = mv.text;
      continue;
    }
    const std::string w = where(name);
    if (v.kind != JsonValue::Kind::Object)
      throw Error(w +
                  ": expected an object with dtype, shape and "
                  "data_offsets, got " +
                  JsonValue::kindName(v.kind) + at(v));
    for (const auto &m : v.members)
      if (m.first != "dtype" && m.first != "shape" && m.first != "data_offsets")
        throw Error(w + ": unknown key " + jsonQuote(m.first) +
                    " (expected dtype, shape, data_offsets)" + at(m.second));
    const JsonValue *dt = v.find("dtype"), *sh = v.find("shape"),
                    *off = v.find("data_offsets");
    for (auto [p, key] : {std::pair{dt, "dtype"}, std::pair{sh, "shape"},
                          std::pair{off, "data_offsets"}})
      if (!p)
        throw Error(w + ": missing key \"" + key +
                    "\" (expected dtype, shape, data_offsets)" + at(v));

    SafetensorsEntry e;
    e.name = name;
    if (dt->kind != JsonValue::Kind::String)
      throw Error(w + ": dtype must be a string, got " +
                  JsonValue::kindName(dt->kind) + at(*dt));
    if (dt->text == "BF16")
      e.dtype = DType::BF16;
    else if (dt->text == "F16")
      e.dtype = DType::F16;
    else if (dt->text == "F32")
      e.dtype = DType::F32;
    else
      throw Error(w + ": unsupported dtype " + jsonQuote(dt->text) +
                  "; supported: " + kSafetensorsSupportedDtypes + at(*dt));

    if (sh->kind != JsonValue::Kind::Array)
      throw Error(w +
                  ": shape must be an array of non-negative integers, "
                  "got " +
                  JsonValue::kindName(sh->kind) + at(*sh));
    for (const JsonValue &d : sh->items) {
      uint64_t u;
      if (!d.asUint(u))
        throw Error(w +
                    ": shape must be an array of non-negative integers, "
                    "got " +
                    (d.kind == JsonValue::Kind::Number
                         ? d.text
                         : std::string(JsonValue::kindName(d.kind))) +
                    at(d));
      if (u > uint64_t(INT64_MAX))
        throw Error(w + ": shape dimension " + d.text +
                    " overflows int64 (shape overflow)" + at(d));
      e.shape.push_back(int64_t(u));
    }
    const uint64_t bytes = uint64_t(checkedByteSize(e.shape, e.dtype, w));

    if (off->kind != JsonValue::Kind::Array || off->items.size() != 2 ||
        !off->items[0].asUint(e.begin) || !off->items[1].asUint(e.end))
      throw Error(w +
                  ": data_offsets must be [begin, end], two "
                  "non-negative integers" +
                  at(*off));
    if (e.begin > e.end)
      throw Error(w + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + "] end before they begin" + at(*off));
    if (e.end > dataSize)
      throw Error(w + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) +
                  "] out of range: the data section "
                  "holds " +
                  std::to_string(dataSize) + " bytes" + at(*off));
    if (e.end - e.begin != bytes)
      throw Error(w + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + "] span " +
                  std::to_string(e.end - e.begin) + " bytes, but shape " +
                  shapeString(e.shape) + " of " + dt->text + " needs " +
                  std::to_string(bytes) + at(*off));
    entries.emplace(name, std::move(e));
  }

  std::vector<const SafetensorsEntry *> byOffset;
  for (const auto &kv : entries)
    if (kv.second.end > kv.second.begin)
      byOffset.push_back(&kv.second);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const SafetensorsEntry *a, const SafetensorsEntry *b) {
              return a->begin < b->begin;
            });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const SafetensorsEntry &a = *byOffset[i - 1], &b = *byOffset[i];
    if (b.begin < a.end)
      throw Error(file + ": tensors " + jsonQuote(a.name) + " [" +
                  std::to_string(a.begin) + ", " + std::to_string(a.end) +
                  ") and " + jsonQuote(b.name) + " [" +
                  std::to_string(b.begin) + ", " + std::to_string(b.end) +
                  ") overlap in the data section");
  }
}

SafetensorsFile::SafetensorsFile() : impl_(std::make_unique<Impl>()) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile &&) noexcept = default;
SafetensorsFile &
SafetensorsFile::operator=(SafetensorsFile &&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string &path) {
  SafetensorsFile f;
  f.impl_->src = fileSource(path);
  f.impl_->parse();
  return f;
}

SafetensorsFile SafetensorsFile::parse(std::string bytes,
                                       const std::string &name) {
  SafetensorsFile f;
  f.impl_->src = memorySource(std::move(bytes), name);
  f.impl_->parse();
  return f;
}

const std::string &SafetensorsFile::name() const { return impl_->src->name(); }

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto &kv : impl_->entries)
    out.push_back(kv.first);
  return out;
}

bool SafetensorsFile::contains(const std::string &tensor) const {
  return impl_->entries.count(tensor) != 0;
}

const SafetensorsEntry &
SafetensorsFile::entry(const std::string &tensor) const {
  auto it = impl_->entries.find(tensor);
  if (it == impl_->entries.end()) {
    std::string have;
    size_t n = 0;
    for (const auto &kv : impl_->entries) {
      if (n == 10) {
        have += ", ... (" + std::to_string(impl_->entries.size()) + " in all)";
        break;
      }
      have += (n++ ? ", " : "") + jsonQuote(kv.first);
    }
    throw Error(impl_->where(tensor) + ": no such tensor (the file holds " +
                (have.empty() ? std::string("none") : have) + ")");
  }
  return it->second;
}

HostArray SafetensorsFile::get(const std::string &tensor) const {
  const SafetensorsEntry &e = entry(tensor);
  HostArray a;
  a.dtype = e.dtype;
  a.shape = e.shape;
  a.bytes.resize(size_t(e.end - e.begin));
  if (!a.bytes.empty())
    impl_->src->read(impl_->dataStart + e.begin, e.end - e.begin,
                     a.bytes.data());
  return a;
}

const std::map<std::string, std::string> &SafetensorsFile::metadata() const {
  return impl_->metadata;
}

std::string
safetensorsBytes(const std::map<std::string, HostArray> &tensors,
                 const std::map<std::string, std::string> &metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto &[k, v] : metadata) {
      header += (first ? "" : ",") + jsonQuote(k) + ":" + jsonQuote(v);
      first = false;
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const auto &[name, a] : tensors) {
    if (name == "__metadata__")
      throw Error("safetensorsBytes: \"__metadata__\" is reserved, not a "
                  "tensor name");
    const int64_t bytes =
        checkedByteSize(a.shape, a.dtype, "safetensorsBytes: " + name);
    if (uint64_t(bytes) != a.bytes.size())
      throw Error("safetensorsBytes: tensor " + jsonQuote(name) + ": shape " +
                  shapeString(a.shape) + " needs " + std::to_string(bytes) +
                  " bytes, the array holds " + std::to_string(a.bytes.size()));
    header += (first ? "" : ",") + jsonQuote(name) + ":{\"dtype\":\"" +
              dtypeToSt(a.dtype) + "\",\"shape\":[";
    for (size_t i = 0; i < a.shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(a.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + uint64_t(bytes)) + "]}";
    offset += uint64_t(bytes);
    first = false;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header.size() + size_t(offset));
  storeLE(out, header.size(), 8);
  out += header;
  for (const auto &kv : tensors)
    out.append(reinterpret_cast<const char *>(kv.second.bytes.data()),
               kv.second.bytes.size());
  return out;
}

void writeSafetensors(const std::string &path,
                      const std::map<std::string, HostArray> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  writeFileAtomic(path, safetensorsBytes(tensors, metadata));
}

} // namespace lfc
