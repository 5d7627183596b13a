# flame_html.cmake — the HTML flame graph page: its unit test, a generator tool and a
# test that opens the tool's output in headless Chromium. Included from tests/CMakeLists.txt.
# The test fails when Chromium is missing, unless PYAGENT_ALLOW_MISSING_BROWSER is ON.
set(PA_CHROMIUM /usr/bin/chromium CACHE FILEPATH "Chromium used by the flame graph browser test")
option(PYAGENT_ALLOW_MISSING_BROWSER "Pass the flame graph browser test when Chromium is absent" OFF)

# The page template is embedded by reader/flamegraph_html.cmake (pa_flame_tpl); without
# it pa_flame_html cannot link, so say why instead of failing at link time.
if(NOT TARGET pa_flame_tpl)
  message(WARNING "flame graph HTML test skipped: include reader/flamegraph_html.cmake "
                  "in the top-level CMakeLists.txt")
  return()
endif()

add_executable(pa_flame_html_gen flame_html_main.c ${CMAKE_CURRENT_SOURCE_DIR}/../reader/mem_libc.c)
target_link_libraries(pa_flame_html_gen PRIVATE ${PA_READER_TOOLS})
target_compile_options(pa_flame_html_gen PRIVATE ${PA_WARN})

if(CMOCKA_FOUND)
  add_executable(test_flamegraph_html test_flamegraph_html.c ${CMAKE_CURRENT_SOURCE_DIR}/../reader/mem_libc.c)
  target_link_libraries(test_flamegraph_html PRIVATE ${PA_READER_TOOLS} PkgConfig::CMOCKA)
  target_compile_options(test_flamegraph_html PRIVATE ${PA_WARN})
  add_test(NAME test_flamegraph_html COMMAND test_flamegraph_html)
endif()

set(PA_BROWSER_FLAGS "")
if(PYAGENT_ALLOW_MISSING_BROWSER)
  set(PA_BROWSER_FLAGS --allow-missing-browser)
endif()
add_test(NAME flamegraph_html_browser
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/browser/test_flamegraph_html.py
                 --chromium ${PA_CHROMIUM} --tool $<TARGET_FILE:pa_flame_html_gen> ${PA_BROWSER_FLAGS})
set_tests_properties(flamegraph_html_browser PROPERTIES TIMEOUT 300)
