// The one way qseg writes a file: atomically and durably (PATH.tmp, fsync, rename, fsync folder).
//
// Usage:
//   QSEG_RETURN_IF_ERROR(io::write_file_durably(path, bytes.data(), bytes.size()));
//
// A kill at any instant, a power cut or a full disk leaves the old PATH or the whole new one,
// never a mix: the bytes go to PATH.tmp, which is flushed to disk, renamed over PATH, and then the
// folder is flushed (without that, the rename itself may not survive a power cut). A PATH.tmp
// left by a killed writer is simply overwritten. Two writers of the same PATH at the same time
// share PATH.tmp: callers write a given file from one thread. Depends on POSIX only (the runtime
// library compiles it for the .tflite writer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "qseg/status.h"

namespace qseg::io {

// On failure PATH.tmp is removed, PATH is as it was, and the error is one line naming PATH and
// the cause: "cannot write PATH: No space left on device" (the text of errno: ENOSPC, EFBIG,
// ENOENT, ...), or "cannot flush the folder of PATH: ..." when only the folder's flush failed (the
// new file is then in place but may not survive a power cut).
Status write_file_durably(const std::filesystem::path& path, const uint8_t* data, size_t size);

}  // namespace qseg::io
