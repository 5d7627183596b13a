# flamegraph_html.cmake — embeds reader/flamegraph.html.in into the reader library as
# two byte arrays split at the data marker (see flamegraph_html.c). Included from the
# top-level CMakeLists.txt after the reader libraries are defined; the build runs this
# same file in script mode (cmake -P) to do the conversion.

if(CMAKE_SCRIPT_MODE_FILE)
  # Script mode: IN (the template) -> OUT (a C source).
  set(marker "@PA_FLAME_DATA@")
  file(READ "${IN}" text)
  string(FIND "${text}" "${marker}" first)
  string(FIND "${text}" "${marker}" last REVERSE)
  if(first LESS 0 OR NOT first EQUAL last)
    message(FATAL_ERROR "${IN}: the data marker ${marker} must appear exactly once")
  endif()
  string(LENGTH "${marker}" mlen)
  math(EXPR tail_at "${first} + ${mlen}")
  # string(FIND) gives byte offsets; reading the parts as hex keeps any byte intact.
  file(READ "${IN}" head_hex LIMIT ${first} HEX)
  file(READ "${IN}" tail_hex OFFSET ${tail_at} HEX)
  string(REPEAT "[0-9a-f]" 32 line16)
  set(src "/* Generated from reader/flamegraph.html.in by reader/flamegraph_html.cmake. */\n")
  string(APPEND src "#include <stddef.h>\n")
  foreach(part head tail)
    string(REGEX REPLACE "(${line16})" "\\1\n" hex "${${part}_hex}")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(APPEND src "\nextern const unsigned char pa_flame_tpl_${part}[];\n"
                      "extern const size_t pa_flame_tpl_${part}_len;\n"
                      "const unsigned char pa_flame_tpl_${part}[] = {\n${bytes}0};\n"
                      "const size_t pa_flame_tpl_${part}_len = sizeof pa_flame_tpl_${part} - 1;\n")
  endforeach()
  file(WRITE "${OUT}" "${src}")
  return()
endif()

if(NOT TARGET pa_reader_lib)
  message(FATAL_ERROR "include reader/flamegraph_html.cmake after pa_reader_lib is defined")
endif()
set(PA_FLAME_TPL_IN ${CMAKE_CURRENT_LIST_DIR}/flamegraph.html.in)
set(PA_FLAME_TPL_C ${CMAKE_BINARY_DIR}/generated/flamegraph_html_tpl.c)
add_custom_command(OUTPUT ${PA_FLAME_TPL_C}
  COMMAND ${CMAKE_COMMAND} -DIN=${PA_FLAME_TPL_IN} -DOUT=${PA_FLAME_TPL_C} -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${PA_FLAME_TPL_IN} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Embedding the flame graph page template" VERBATIM)
# One custom target owns the generation, so parallel builds of both reader libraries
# (plain and sanitized) do not run the command twice at once.
add_custom_target(pa_flame_tpl DEPENDS ${PA_FLAME_TPL_C})
foreach(lib pa_reader_lib pa_reader_lib_checked)
  if(TARGET ${lib})
    target_sources(${lib} PRIVATE ${PA_FLAME_TPL_C})
    add_dependencies(${lib} pa_flame_tpl)
  endif()
endforeach()
