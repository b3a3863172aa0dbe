// Reading and writing checkpoint files (see checkpoint_file.h for the layout).
#include "model/checkpoint_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "io/durable_write.h"

namespace qseg::model {
namespace {

constexpr char kMagic[8] = {'Q', 'S', 'E', 'G', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kPrefixBytes = 24;  // magic, version, reserved, header size
constexpr size_t kAlignment = 64;
constexpr int64_t kMaxTensorValues = int64_t{1} << 31;

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <typename T>
T get(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

size_t align_up(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

bool CheckpointFile::quantized() const {
  const auto it = meta.find("quantized");
  return it != meta.end() && it->is_boolean() && it->get<bool>();
}

uint64_t fnv1a(const uint8_t* data, size_t size, uint64_t hash) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

const CheckpointTensor* CheckpointFile::find(const std::string& name) const {
  for (const CheckpointTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::vector<uint8_t>> encode_checkpoint(const CheckpointFile& checkpoint,
                                               const std::string& name) {
  nlohmann::json index = nlohmann::json::array();
  size_t offset = 0;
  for (const CheckpointTensor& t : checkpoint.tensors) {
    int64_t count = 1;
    for (int64_t d : t.shape) count *= d;
    if (count != static_cast<int64_t>(t.data.size())) {
      return Status::error(name + ": tensor " + t.name + " has " + std::to_string(t.data.size()) +
                           " values but its shape holds " + std::to_string(count));
    }
    const size_t bytes = t.data.size() * sizeof(float);
    index.push_back({{"name", t.name}, {"shape", t.shape}, {"offset", offset}, {"size", bytes}});
    offset = align_up(offset + bytes);
  }
  const std::string header = nlohmann::json{{"meta", checkpoint.meta}, {"tensors", index}}.dump();
  std::vector<uint8_t> out;
  out.reserve(kPrefixBytes + header.size() + offset + 8);
  out.insert(out.end(), kMagic, kMagic + 8);
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  const size_t data_start = out.size();
  out.resize(data_start + offset, 0);
  size_t position = 0;
  for (const CheckpointTensor& t : checkpoint.tensors) {
    const size_t bytes = t.data.size() * sizeof(float);
    if (bytes > 0) std::memcpy(out.data() + data_start + position, t.data.data(), bytes);
    position = align_up(position + bytes);
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  return out;
}

Status replace_file_durably(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  const Status written = io::write_file_durably(path, data, size);
  // A failed write ("cannot write PATH: ...") leaves the previous file; a failed flush of the
  // folder comes after the rename, so the new file is in place and the message stays as it is.
  if (written.is_ok() || written.message().rfind("cannot write ", 0) != 0) return written;
  return Status::error(written.message() + " (the previous " + path.filename().string() +
                       ", if any, is untouched)");
}

Status write_checkpoint_file(const std::filesystem::path& path, const CheckpointFile& checkpoint) {
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> out,
                        encode_checkpoint(checkpoint, path.string()));
  return replace_file_durably(path, out.data(), out.size());
}

Result<CheckpointFile> read_checkpoint_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::error("cannot open checkpoint " + path.string() + ": " + std::strerror(errno));
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  return decode_checkpoint(bytes, path.string());
}

Result<CheckpointFile> decode_checkpoint(const std::vector<uint8_t>& bytes,
                                         const std::string& name) {
  if (bytes.size() < kPrefixBytes + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return Status::error(name + ": not a qseg checkpoint (bad magic or too short)");
  }
  if (get<uint32_t>(bytes.data() + 8) != kVersion) {
    return Status::error(name + ": unsupported checkpoint version " +
                         std::to_string(get<uint32_t>(bytes.data() + 8)));
  }
  const size_t body = bytes.size() - 8;
  if (get<uint64_t>(bytes.data() + body) != fnv1a(bytes.data(), body)) {
    return Status::error(name + ": checkpoint is corrupt or truncated (hash mismatch)");
  }
  const uint64_t header_size = get<uint64_t>(bytes.data() + 16);
  if (header_size > body - kPrefixBytes)
    return Status::error(name + ": header size beyond the end of the file");
  const size_t data_start = kPrefixBytes + header_size;
  const size_t data_size = body - data_start;
  CheckpointFile checkpoint;
  try {
    const auto header =
        nlohmann::json::parse(bytes.begin() + kPrefixBytes, bytes.begin() + data_start);
    checkpoint.meta = header.at("meta");
    if (!checkpoint.meta.is_object())
      return Status::error(name + ": checkpoint meta is not an object");
    std::set<std::string> names;
    for (const auto& entry : header.at("tensors")) {
      CheckpointTensor t;
      t.name = entry.at("name").get<std::string>();
      t.shape = entry.at("shape").get<std::vector<int64_t>>();
      const uint64_t offset = entry.at("offset").get<uint64_t>();
      const uint64_t size = entry.at("size").get<uint64_t>();
      if (!names.insert(t.name).second)
        return Status::error(name + ": tensor " + t.name + " appears twice");
      int64_t count = 1;
      for (int64_t d : t.shape) {
        if (d < 0 || d > kMaxTensorValues || count * d > kMaxTensorValues) {
          return Status::error(name + ": tensor " + t.name + " has a bad shape");
        }
        count *= d;
      }
      if (size != static_cast<uint64_t>(count) * sizeof(float) || offset > data_size ||
          size > data_size - offset) {
        return Status::error(name + ": tensor " + t.name + " does not fit its shape or the file");
      }
      t.data.resize(static_cast<size_t>(count));
      if (size > 0) std::memcpy(t.data.data(), bytes.data() + data_start + offset, size);
      checkpoint.tensors.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::error(name + ": bad checkpoint header: " + e.what());
  }
  return checkpoint;
}

bool is_checkpoint_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kMagic] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) == 0;
}

Result<std::optional<ClassSet>> checkpoint_classes(const CheckpointFile& checkpoint,
                                                   const std::string& name) {
  const nlohmann::json& meta = checkpoint.meta;
  if (!meta.is_object() || !meta.contains("class_names")) return std::optional<ClassSet>();
  const nlohmann::json& names = meta["class_names"];
  if (!names.is_array()) return Status::error(name + ": class_names is not an array of strings");
  // The same rules as a labels file, and its messages: one "NAME [#RRGGBB]" line per class.
  const nlohmann::json* colors = meta.contains("class_colors") ? &meta["class_colors"] : nullptr;
  if (colors && (!colors->is_array() || colors->size() != names.size())) {
    return Status::error(name +
                         ": class_colors must be an array of one \"#RRGGBB\" per class name");
  }
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string())
      return Status::error(name + ": class_names is not an array of strings");
    const std::string class_name = names[i].get<std::string>();
    if (class_name.find('#') != std::string::npos || class_name.find('\n') != std::string::npos)
      return Status::error(name + ": class name \"" + class_name + "\" holds '#' or a line break");
    text += class_name;
    if (colors) {
      if (!(*colors)[i].is_string())
        return Status::error(name + ": class_colors must be an array of \"#RRGGBB\" strings");
      const std::string color = (*colors)[i].get<std::string>();
      if (color.size() != 7 || color[0] != '#') {
        return Status::error(name + ": class_colors[" + std::to_string(i) + "] \"" + color +
                             "\" is not #RRGGBB");
      }
      text += " " + color;
    }
    text += "\n";
  }
  QSEG_ASSIGN_OR_RETURN(ClassSet classes, ClassSet::parse(text, name + " class_names"));
  return std::optional<ClassSet>(std::move(classes));
}

void set_checkpoint_classes(CheckpointFile* checkpoint, const ClassSet& classes) {
  nlohmann::json names = nlohmann::json::array(), colors = nlohmann::json::array();
  for (int c = 0; c < classes.size(); ++c) {
    names.push_back(classes.name(c));
    char color[8];
    std::snprintf(color, sizeof(color), "#%02X%02X%02X", classes.color(c)[0], classes.color(c)[1],
                  classes.color(c)[2]);
    colors.push_back(std::string(color));
  }
  checkpoint->meta["class_names"] = std::move(names);
  checkpoint->meta["class_colors"] = std::move(colors);
}

}  // namespace qseg::model
