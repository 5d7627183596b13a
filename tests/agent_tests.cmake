# agent_tests.cmake — unit tests of the agent's modules, each built from that module's
# own sources (not the whole agent), and victims run under LD_PRELOAD. Included from
# tests/CMakeLists.txt. Run with -P, this file is instead the driver of the victim tests.

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DMODE=dlsym|errno -DVICTIM=exe -DAGENT=libpyagent.so -DWORK=dir -P agent_tests.cmake
  # Each run starts from a clean environment for the agent: no inherited knobs (the
  # list in agent/config.c; an unknown PYAGENT_* left in the environment turns the
  # agent dormant, which the errno test reports as "did not track").
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}")
  set(clean --unset=LD_PRELOAD)
  foreach(knob ENABLE OUTPUT LEAK_REPORT LEAK_TOP ALLOC PYMALLOC NATIVE_DEPTH NATIVE PYTHON_DEPTH
          NON_PYTHON FLUSH_MS)
    list(APPEND clean --unset=PYAGENT_${knob})
  endforeach()

  function(run_victim out_var)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env ${clean} ${ARGN}
                    WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
    message(STATUS "$ ${ARGN}\n-- rc=${rc}\n${out}${err}")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "victim failed (rc=${rc})")
    endif()
    set(${out_var} "${out}" PARENT_SCOPE)
    set(${out_var}_err "${err}" PARENT_SCOPE)
  endfunction()

  if(MODE STREQUAL "dlsym")
    run_victim(plain "${VICTIM}")
    run_victim(dormant LD_PRELOAD=${AGENT} "${VICTIM}" --agent)
    run_victim(tracking LD_PRELOAD=${AGENT} PYAGENT_NON_PYTHON=track PYAGENT_LEAK_REPORT=off
               PYAGENT_OUTPUT= "${VICTIM}" --agent)
    # identical stdout: what RTLD_NEXT means must not depend on the agent
    if(NOT plain STREQUAL dormant OR NOT plain STREQUAL tracking)
      message(FATAL_ERROR "RTLD_NEXT results differ under the agent:\n"
              "--- without\n${plain}--- dormant agent\n${dormant}--- tracking agent\n${tracking}")
    endif()
  elseif(MODE STREQUAL "errno")
    run_victim(plain "${VICTIM}")
    run_victim(tracked LD_PRELOAD=${AGENT} PYAGENT_NON_PYTHON=track PYAGENT_LEAK_REPORT=off
               PYAGENT_FLUSH_MS=10 PYAGENT_OUTPUT=${WORK}/errno_keep-%p.trace "${VICTIM}")
    # the hooks did record: the agent wrote a trace of this run
    file(GLOB traces "${WORK}/errno_keep-*.trace")
    list(LENGTH traces ntraces)
    if(NOT ntraces EQUAL 1)
      message(FATAL_ERROR "expected one trace in ${WORK}, found ${ntraces}: the agent did not track")
    endif()
    file(SIZE "${traces}" size)
    if(size LESS 64)
      message(FATAL_ERROR "trace ${traces} has only ${size} bytes")
    endif()
    # the agent's own calls fail inside the hooks (its trace file cannot be created):
    # the errno they leave must still not reach the program
    run_victim(failing LD_PRELOAD=${AGENT} PYAGENT_NON_PYTHON=track PYAGENT_LEAK_REPORT=off
               PYAGENT_FLUSH_MS=10 PYAGENT_OUTPUT=${WORK}/no-such-dir/errno_keep-%p.trace "${VICTIM}")
    if(NOT failing_err MATCHES "pyagent: [^\n]*trace")
      message(FATAL_ERROR "the agent did not report the trace it could not create")
    endif()
  else()
    message(FATAL_ERROR "unknown MODE '${MODE}'")
  endif()
  return()
endif()

# ---- unit tests: test_<module>.c plus the module's own sources ----
if(CMOCKA_FOUND)
  set(PA_AGENT_UNIT_TESTS test_format test_config test_map test_heap test_tables test_symtab test_counters)
  set(test_format_SRC)
  set(test_config_SRC agent/config.c)
  set(test_map_SRC agent/map.c agent/mem.c agent/log.c)
  set(test_heap_SRC agent/heap.c agent/mem.c agent/log.c)
  # pa_reader_lib decodes the record log; agent/mem.c supplies its pa_mem_* (not mem_libc.c)
  set(test_tables_SRC agent/tables.c agent/map.c agent/mem.c agent/log.c)
  set(test_tables_LIBS pa_reader_lib PkgConfig::ZSTD)
  # libc pa_mem (not mimalloc), so ASan sees every buffer the ELF parser reads into
  set(test_symtab_SRC agent/symtab.c reader/mem_libc.c)
  set(test_counters_SRC agent/counters.c)

  foreach(name IN LISTS PA_AGENT_UNIT_TESTS)
    set(srcs ${CMAKE_SOURCE_DIR}/tests/${name}.c)
    foreach(src IN LISTS ${name}_SRC)
      list(APPEND srcs ${CMAKE_SOURCE_DIR}/${src})
    endforeach()
    add_executable(${name} ${srcs})
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/agent
                               ${CMAKE_SOURCE_DIR}/reader)
    target_link_libraries(${name} PRIVATE ${${name}_LIBS} PkgConfig::CMOCKA ${CMAKE_DL_LIBS} Threads::Threads)
    target_compile_options(${name} PRIVATE ${PA_WARN} -fno-omit-frame-pointer)
    if(PYAGENT_SANITIZE)
      target_compile_options(${name} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=undefined)
      target_link_options(${name} PRIVATE -fsanitize=address,undefined)
    endif()
    add_test(NAME ${name} COMMAND ${name})
  endforeach()
endif()

# ---- victims under LD_PRELOAD ----
# Not in sanitizer builds: there libpyagent.so itself links libasan (through
# pa_reader_lib), and an ASan runtime cannot be preloaded into an uninstrumented program.
if(NOT PYAGENT_SANITIZE)
  set(PA_VICTIM_DIR ${CMAKE_SOURCE_DIR}/tests/victims)

  add_library(pa_victim SHARED ${PA_VICTIM_DIR}/dlsym_next/victim.c)
  set_target_properties(pa_victim PROPERTIES OUTPUT_NAME victim) # libvictim.so
  target_link_libraries(pa_victim PRIVATE ${CMAKE_DL_LIBS})
  add_executable(dlsym_next ${PA_VICTIM_DIR}/dlsym_next/main.c)
  target_link_libraries(dlsym_next PRIVATE pa_victim ${CMAKE_DL_LIBS})
  set_target_properties(dlsym_next PROPERTIES ENABLE_EXPORTS ON) # -rdynamic: main's victim_fn is global

  add_executable(errno_keep ${PA_VICTIM_DIR}/errno_keep.c)
  target_link_libraries(errno_keep PRIVATE Threads::Threads)

  foreach(victim dlsym_next errno_keep)
    target_compile_options(${victim} PRIVATE ${PA_WARN})
  endforeach()

  add_test(NAME victim_dlsym_next
           COMMAND ${CMAKE_COMMAND} -DMODE=dlsym -DVICTIM=$<TARGET_FILE:dlsym_next>
                   -DAGENT=$<TARGET_FILE:pyagent> -DWORK=${CMAKE_CURRENT_BINARY_DIR}/victim_dlsym_next
                   -P ${CMAKE_CURRENT_LIST_FILE})
  add_test(NAME victim_errno_keep
           COMMAND ${CMAKE_COMMAND} -DMODE=errno -DVICTIM=$<TARGET_FILE:errno_keep>
                   -DAGENT=$<TARGET_FILE:pyagent> -DWORK=${CMAKE_CURRENT_BINARY_DIR}/victim_errno_keep
                   -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(victim_dlsym_next victim_errno_keep PROPERTIES TIMEOUT 300)
endif()
