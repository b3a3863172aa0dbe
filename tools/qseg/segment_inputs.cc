#include "segment_inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace qseg::cli {
namespace fs = std::filesystem;
namespace {

// A photo found, before its outputs are named.
struct Found {
  fs::path input;
  std::string name;
  fs::path rel_dir;  // its folder below the folder given
  std::string stem, extension;
};

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.size() > 1 && name[0] == '.';
}

// The photos below `dir`, in path order, passing over hidden entries and the output folder.
Status walk_folder(const fs::path& dir, const fs::path& out, std::vector<Found>* found,
                   PlanNotes* notes) {
  std::error_code ec;
  const bool out_exists = fs::is_directory(out, ec);
  std::vector<Found> here;
  int others = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code entry_ec;
    const bool is_dir = it->is_directory(entry_ec);
    if (is_hidden(path) || (is_dir && out_exists && fs::equivalent(path, out, entry_ec))) {
      if (is_dir) it.disable_recursion_pending();
      continue;
    }
    if (is_dir || !it->is_regular_file(entry_ec)) continue;
    if (!has_photo_extension(path)) {
      ++others;
      continue;
    }
    here.push_back({path, path.string(), path.parent_path().lexically_relative(dir),
                    path.stem().string(), path.extension().string()});
  }
  if (ec) return Status::error("cannot read folder " + dir.string() + ": " + ec.message());
  if (here.empty()) {
    return Status::error(fmt::format(
        "{}: no photos (.jpg, .jpeg, .png, .bmp, .webp) in this folder{}", dir.string(),
        others > 0 ? fmt::format(" ({} other file{})", others, others == 1 ? "" : "s") : ""));
  }
  std::sort(here.begin(), here.end(),
            [](const Found& a, const Found& b) { return a.input < b.input; });
  notes->lines.push_back(fmt::format(
      "{}: {} photo{}{}", dir.string(), here.size(), here.size() == 1 ? "" : "s",
      others > 0 ? fmt::format(" ({} other file{} passed over)", others, others == 1 ? "" : "s")
                 : ""));
  found->insert(found->end(), here.begin(), here.end());
  return Status::ok();
}

std::string canonical_key(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  return (ec ? fs::absolute(path, ec).lexically_normal() : canonical).string();
}

}  // namespace

bool has_photo_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

Result<std::vector<PhotoJob>> plan_photo_jobs(const std::vector<std::string>& inputs,
                                              const OutputNaming& naming, PlanNotes* notes) {
  std::vector<Found> found;
  bool stdin_given = false;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (input == "-") {
      if (stdin_given) return Status::invalid_argument("- (stdin) is given twice");
      stdin_given = true;
      found.push_back({"-", "stdin", "", "stdin", ""});
    } else if (fs::is_directory(input, ec)) {
      QSEG_RETURN_IF_ERROR(walk_folder(input, naming.out, &found, notes));
    } else {
      const fs::path path(input);  // a missing or unreadable file fails when it is read
      found.push_back({path, input, "", path.stem().string(), path.extension().string()});
    }
  }
  // The same photo twice (by two names, or as a file and inside a folder) would write twice.
  std::map<std::string, size_t> by_input;
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].input == "-") continue;
    const auto [it, fresh] = by_input.emplace(canonical_key(found[i].input), i);
    if (!fresh) {
      return Status::invalid_argument(
          fmt::format("{} is given twice (also as {})", found[i].name, found[it->second].name));
    }
  }

  std::vector<bool> keep_extension(found.size(), false);
  const auto outputs_of = [&](size_t i) {
    const Found& f = found[i];
    const std::string base = f.stem + (keep_extension[i] ? f.extension : "");
    const fs::path dir = naming.out / f.rel_dir;
    std::vector<fs::path> paths{(dir / (base + ".png")).lexically_normal()};
    if (naming.overlays)
      paths.push_back((dir / (base + ".overlay." + naming.overlay_format)).lexically_normal());
    return paths;
  };
  // Round 0 finds the colliding photos and gives them their extension; round 1 refuses what
  // still collides.
  for (int round = 0; round < 2; ++round) {
    std::map<std::string, size_t> writer;  // output path -> the photo writing it
    std::set<size_t> colliding;
    for (size_t i = 0; i < found.size(); ++i) {
      for (const fs::path& output : outputs_of(i)) {
        const auto [it, fresh] = writer.emplace(output.string(), i);
        if (fresh) continue;
        if (round == 1) {
          return Status::error(fmt::format(
              "{} and {} would both write {}; segment them in separate runs with different --out",
              found[it->second].name, found[i].name, output.string()));
        }
        colliding.insert(it->second);
        colliding.insert(i);
      }
    }
    if (colliding.empty()) break;
    for (size_t i : colliding) keep_extension[i] = true;
    std::string names;
    int listed = 0;
    for (size_t i : colliding) {
      if (listed++ == 4) {
        names += fmt::format(" and {} more", colliding.size() - 4);
        break;
      }
      names += (names.empty() ? "" : ", ") + found[i].name;
    }
    notes->lines.push_back(
        fmt::format("{}: names collide, so their outputs keep the photo's extension (e.g. {})",
                    names, outputs_of(*colliding.begin())[0].string()));
  }

  std::vector<PhotoJob> jobs;
  jobs.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    const std::vector<fs::path> outputs = outputs_of(i);
    for (const fs::path& output : outputs) {
      const auto input = by_input.find(canonical_key(output));
      if (input != by_input.end()) {
        return Status::error(
            fmt::format("{}: output {} would overwrite the input {}; choose "
                        "another --out",
                        found[i].name, output.string(), found[input->second].name));
      }
    }
    jobs.push_back(
        {found[i].input, found[i].name, outputs[0], outputs.size() > 1 ? outputs[1] : fs::path()});
  }
  return jobs;
}

}  // namespace qseg::cli
