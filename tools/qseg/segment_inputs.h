// What `qseg segment` reads and writes: photo files, folders (walked recursively, their structure
// kept under the output folder) and "-" (one photo on stdin), each with the mask and overlay it
// writes, named so that no two outputs share a path and no output is an input.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "qseg/status.h"

namespace qseg::cli {

struct PhotoJob {
  std::filesystem::path input;  // "-" reads stdin
  std::string name;             // what the output lines call it: the path, or "stdin"
  std::filesystem::path mask;
  std::filesystem::path overlay;  // empty when no overlay is written
};

struct OutputNaming {
  std::filesystem::path out;  // the output folder (it may not exist yet)
  bool overlays = true;
  std::string overlay_format = "png";
};

// What was found and decided, for the lines printed before any work.
struct PlanNotes {
  std::vector<std::string> lines;  // e.g. how colliding names were told apart
};

// Photos are files ending in .jpg, .jpeg, .png or .bmp (any case); a folder's other files, its
// hidden entries and the output folder inside it are passed over. Masks are OUT/REL/NAME.png and
// overlays OUT/REL/NAME.overlay.png (or .jpg), where REL is the photo's folder below the folder
// given (nothing for files given by name) and NAME its file name without the extension. Where two
// outputs would share a path, the photos involved keep their extension (x.jpg.png, x.bmp.png);
// if that does not tell them apart, or an input is given twice, or an output would be an input,
// the result is an error naming both, before any work.
Result<std::vector<PhotoJob>> plan_photo_jobs(const std::vector<std::string>& inputs,
                                              const OutputNaming& naming, PlanNotes* notes);

// Whether `path` names a photo file by its extension.
bool has_photo_extension(const std::filesystem::path& path);

}  // namespace qseg::cli
