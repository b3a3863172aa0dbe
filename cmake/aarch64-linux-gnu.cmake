# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; tests run under
# qemu-aarch64-static. Libraries of the target (libjpeg, libpng, libwebp, GoogleTest) come from Debian's
# arm64 packages (multiarch, /usr/lib/aarch64-linux-gnu); headers that do not depend on the
# architecture (FlatBuffers) and flatc are the host's. scripts/build_aarch64.sh uses it:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#     -DQSEG_RUNTIME_ONLY=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Debian multiarch: with the library architecture set, find_library and find_package look in
# /usr/lib/aarch64-linux-gnu and never in the host's /usr/lib/x86_64-linux-gnu; find_program
# finds the host's flatc.
# Programs are linked statically: they then run in the emulator as they are (a dynamically linked
# program that starts a thread hangs in qemu-aarch64-static 7.2 when its libraries come from the
# cross sysroot). Shared libraries (libqseg.so) are built as usual.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
foreach(library JPEG:jpeg PNG:png ZLIB:z)
  string(REPLACE ":" ";" pair ${library})
  list(GET pair 0 package)
  list(GET pair 1 name)
  set(${package}_LIBRARY_RELEASE /usr/lib/aarch64-linux-gnu/lib${name}.a CACHE FILEPATH "")
endforeach()
set(QSEG_WEBP_LIBRARY /usr/lib/aarch64-linux-gnu/libwebp.a CACHE FILEPATH "")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
# Debian's arm64 XNNPACK, pthreadpool and cpuinfo for bench/xnnpack_bench.cc, unpacked there by
# scripts/setup.sh (they cannot be installed beside the host's packages of the same name).
set(QSEG_XNNPACK_PREFIX /opt/qseg-arm64 CACHE PATH "Unpacked arm64 XNNPACK packages")
