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

set(FIDES_QT_COMPONENTS Core Test)
if(FIDES_BUILD_GUI)
  list(APPEND FIDES_QT_COMPONENTS Gui Widgets Quick Qml QuickTest)
endif()
find_package(Qt6 6.4 REQUIRED COMPONENTS ${FIDES_QT_COMPONENTS})
