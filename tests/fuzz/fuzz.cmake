# fuzz.cmake — the reader's fuzz targets (tests/fuzz/fuzz_*.c, one per decoder entry
# point), included from tests/CMakeLists.txt.
# Every build: each target linked with a replay driver runs the seed corpus and the
# regression inputs once (fuzz_replay_*; under ASan+UBSan in the PYAGENT_SANITIZE build).
# PYAGENT_FUZZ=ON (clang): libFuzzer binaries with ASan+UBSan, built by the `fuzz`
# target, and a bounded run of each as a CTest test (fuzz_run_*, PA_FUZZ_SECONDS each).
# The longer run: tests/fuzz/run.sh --minutes 30 (docs/RELIABILITY.md, "Fuzzing").
set(PA_FUZZ_TARGETS decode records leaks summary report script export flamegraph)
set(PA_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PA_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs in its CTest test (PYAGENT_FUZZ)")

add_custom_target(fuzz)
foreach(name IN LISTS PA_FUZZ_TARGETS)
  add_executable(fuzz_${name}_replay ${PA_FUZZ_DIR}/fuzz_${name}.c ${PA_FUZZ_DIR}/replay_main.c
                 ${CMAKE_SOURCE_DIR}/reader/mem_libc.c)
  target_link_libraries(fuzz_${name}_replay PRIVATE ${PA_READER_TOOLS})
  target_compile_options(fuzz_${name}_replay PRIVATE ${PA_WARN})
  add_dependencies(fuzz fuzz_${name}_replay)
  add_test(NAME fuzz_replay_${name} COMMAND fuzz_${name}_replay ${PA_FUZZ_DIR}/corpus ${PA_FUZZ_DIR}/regressions)
endforeach()

if(PYAGENT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PYAGENT_FUZZ needs clang's libFuzzer: configure a separate build directory with "
                        "CC=clang cmake -B build-fuzz -DPYAGENT_FUZZ=ON")
  endif()
  pa_reader_library(pa_reader_lib_fuzz)
  target_compile_options(pa_reader_lib_fuzz PUBLIC -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=undefined)
  target_link_options(pa_reader_lib_fuzz PUBLIC -fsanitize=fuzzer,address,undefined)
  # The flame graph page template, generated once for all reader libraries
  # (reader/flamegraph_html.cmake).
  set_source_files_properties(${PA_FLAME_TPL_C} PROPERTIES GENERATED TRUE)
  target_sources(pa_reader_lib_fuzz PRIVATE ${PA_FLAME_TPL_C})
  add_dependencies(pa_reader_lib_fuzz pa_flame_tpl)
  foreach(name IN LISTS PA_FUZZ_TARGETS)
    add_executable(fuzz_${name} ${PA_FUZZ_DIR}/fuzz_${name}.c ${CMAKE_SOURCE_DIR}/reader/mem_libc.c)
    target_link_libraries(fuzz_${name} PRIVATE pa_reader_lib_fuzz)
    target_compile_options(fuzz_${name} PRIVATE ${PA_WARN})
    add_dependencies(fuzz fuzz_${name})
    add_test(NAME fuzz_run_${name}
             COMMAND ${PA_FUZZ_DIR}/run.sh --bin-dir $<TARGET_FILE_DIR:fuzz_${name}> --work ${CMAKE_BINARY_DIR}/fuzz-work
                     --seconds ${PA_FUZZ_SECONDS} --target ${name})
    math(EXPR pa_fuzz_timeout "${PA_FUZZ_SECONDS} * 2 + 60")
    set_tests_properties(fuzz_run_${name} PROPERTIES TIMEOUT ${pa_fuzz_timeout} RUN_SERIAL ON)
  endforeach()
endif()
