// Atomic, durable file replacement (see durable_write.h).
#include "io/durable_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace qseg::io {
namespace {

// Writes all of [data, data + size) to fd; false with errno set on failure.
bool write_all(int fd, const uint8_t* data, size_t size) {
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

// Writes and flushes a new file; 0 or the errno of the first failure.
int write_and_sync(const std::string& name, const uint8_t* data, size_t size) {
  const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  bool ok = write_all(fd, data, size);
  // Flushing can be where a full disk shows (delayed allocation), so its error counts too.
  if (ok) ok = ::fsync(fd) == 0;
  const int write_error = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) return errno;
  return write_error;
}

// Flushes a folder's entries (a rename lives there, not in the file). Some file systems cannot
// fsync a folder (EINVAL): they give no stronger promise, so that is not an error.
int sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int error = ::fsync(fd) != 0 && errno != EINVAL ? errno : 0;
  ::close(fd);
  return error;
}

}  // namespace

Status write_file_durably(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  const std::string name = path.string();
  const std::string temp = name + ".tmp";
  int error = write_and_sync(temp, data, size);
  if (error == 0 && ::rename(temp.c_str(), name.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    return Status::error("cannot write " + name + ": " + std::strerror(error));
  }
  if (const int folder_error = sync_folder(path.parent_path()); folder_error != 0) {
    return Status::error("cannot flush the folder of " + name + ": " + std::strerror(folder_error));
  }
  return Status::ok();
}

}  // namespace qseg::io
