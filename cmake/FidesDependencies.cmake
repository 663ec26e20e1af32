# Every third-party dependency, found once, as imported targets.
# All come from Debian 12 packages installed by scripts/setup.sh.
find_package(PkgConfig REQUIRED)
pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2>=2.19)
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1>=0.2)

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
# Abseil's Swiss tables for the hash-keyed sets on hot paths (libabsl-dev,
# which gRPC itself depends on).
find_package(absl CONFIG REQUIRED)

# The validator daemon's allocator (libjemalloc-dev, doc/adr/0022). The
# sanitizers bring their own allocator, so it is left out under them.
add_library(fides_allocator INTERFACE)
if(FIDES_JEMALLOC AND NOT FIDES_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc>=5)
  target_link_libraries(fides_allocator INTERFACE PkgConfig::JEMALLOC)
  target_compile_definitions(fides_allocator INTERFACE FIDES_WITH_JEMALLOC=1)
endif()

set(FIDES_QT_COMPONENTS Core Test)
if(FIDES_BUILD_GUI)
  list(APPEND FIDES_QT_COMPONENTS Gui Widgets Quick Qml QuickTest)
endif()
find_package(Qt6 6.4 REQUIRED COMPONENTS ${FIDES_QT_COMPONENTS})
