# cuda.cmake — the CUDA backend (sim/backend/cuda/*.cu), included by CMakeLists.txt after goodhart_core is defined.
# Contract: GOODHART_CUDA = AUTO (default: build it when check_language(CUDA) finds nvcc, and not under
# GOODHART_SANITIZE) | ON (nvcc required) | OFF.
# When built: the .cu files form goodhart_cuda (static cudart), linked into goodhart_core, which gets
# GOODHART_WITH_CUDA; sim/backend/cuda/cuda_absent.cpp is left out (bench/CMakeLists.txt then defines
# goodhart_bench_cuda when Google Benchmark is installed). When not: cuda_absent.cpp stands in for the CUDA ops.
# CMAKE_CUDA_ARCHITECTURES defaults to 90 (H100/H200; PTX for newer devices is included), overridable on the
# command line.
set(GOODHART_CUDA AUTO CACHE STRING "build the CUDA backend: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE GOODHART_CUDA PROPERTY STRINGS AUTO ON OFF)
set(GOODHART_CUDA_ABSENT ${CMAKE_SOURCE_DIR}/sim/backend/cuda/cuda_absent.cpp)

# decide
string(TOUPPER "${GOODHART_CUDA}" goodhart_cuda_mode)
set(GOODHART_WITH_CUDA OFF)
if(goodhart_cuda_mode STREQUAL "AUTO" AND GOODHART_SANITIZE)
  message(STATUS "goodhart: GOODHART_CUDA=AUTO left off under GOODHART_SANITIZE (ASan and nvcc do not mix)")
elseif(goodhart_cuda_mode STREQUAL "AUTO" OR GOODHART_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(GOODHART_WITH_CUDA ON)
  elseif(NOT goodhart_cuda_mode STREQUAL "AUTO")
    message(FATAL_ERROR "GOODHART_CUDA=ON but no CUDA compiler (nvcc) was found: put nvcc on PATH, set "
                        "CMAKE_CUDA_COMPILER, or configure with -DGOODHART_CUDA=OFF")
  endif()
endif()

if(NOT GOODHART_WITH_CUDA)
  message(STATUS "goodhart: CUDA backend off (GOODHART_CUDA=${GOODHART_CUDA})")
  target_sources(goodhart_core PRIVATE ${GOODHART_CUDA_ABSENT})
  return()
endif()

# the library of kernels and their host wrappers
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# CMake 3.25 knows no C++20 dialect flag for nvcc (nvcc >= 12 has it); the targets below are C++20 like the rest
if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
message(STATUS "goodhart: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
               "${CMAKE_CUDA_ARCHITECTURES})")
# the core's recursive glob of sim/backend/*.cpp also finds cuda_absent.cpp: left out of CUDA builds
set_source_files_properties(${GOODHART_CUDA_ABSENT} PROPERTIES HEADER_FILE_ONLY ON)

file(GLOB GOODHART_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/sim/backend/cuda/*.cu)
add_library(goodhart_cuda STATIC ${GOODHART_CUDA_SOURCES})
set_target_properties(goodhart_cuda PROPERTIES CUDA_RUNTIME_LIBRARY Static POSITION_INDEPENDENT_CODE ON)
target_include_directories(goodhart_cuda PUBLIC ${CMAKE_SOURCE_DIR} ${RANDOM123_INCLUDE_DIR})
target_link_libraries(goodhart_cuda PUBLIC Eigen3::Eigen CUDA::cudart_static)
# the host side must see Eigen exactly as goodhart_core's C++ does (same -march, so the same alignment: Eigen
# objects cross over)
target_compile_definitions(goodhart_cuda PUBLIC EIGEN_DONT_PARALLELIZE)
target_compile_options(goodhart_cuda PUBLIC
  $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo --expt-relaxed-constexpr -diag-suppress=20012 -Xcompiler=-Wall,-Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<CONFIG:Release>>:-O3 -Xcompiler=-march=${GOODHART_MARCH}>)

target_link_libraries(goodhart_core PUBLIC goodhart_cuda)
target_compile_definitions(goodhart_core PUBLIC GOODHART_WITH_CUDA)
