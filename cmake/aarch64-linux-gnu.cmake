# Cross-compiles the addon for linux-arm64 on an x86-64 Debian machine (apt-get install g++-aarch64-linux-gnu):
#   npx cmake-js rebuild --out build-arm64 --CDCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# (npm run build:native:arm64). The result runs on arm64 or under qemu-aarch64 (scripts/arm64-qemu.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
