# `cmake --install`: lib/libpyagent.so, bin/pyagent, include/pyagent.h (+ the trace
# format header), lib/pkgconfig/pyagent.pc, share/man/man1/pyagent.1 and the docs;
# `cpack -G DEB` (run in the build directory) packs the same tree for /usr.
install(TARGETS pyagent LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS pyagent_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/pyagent.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/pyagent/format.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pyagent)

# pkg-config: @ONLY substitution at install time, so the prefix is the one installed to.
configure_file(${CMAKE_SOURCE_DIR}/packaging/pyagent.pc.in ${CMAKE_BINARY_DIR}/pyagent.pc.in.cmake COPYONLY)
install(CODE "
  set(CMAKE_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_BINARY_DIR}/pyagent.pc.in.cmake\" \"${CMAKE_BINARY_DIR}/pyagent.pc\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/pyagent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The man page is made from the CLI's help texts.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/pyagent.1
                   COMMAND sh ${CMAKE_SOURCE_DIR}/packaging/make-man.sh $<TARGET_FILE:pyagent_cli> ${PROJECT_VERSION}
                           ${CMAKE_BINARY_DIR}/pyagent.1
                   DEPENDS pyagent_cli ${CMAKE_SOURCE_DIR}/packaging/make-man.sh VERBATIM)
add_custom_target(pyagent_man ALL DEPENDS ${CMAKE_BINARY_DIR}/pyagent.1)
install(FILES ${CMAKE_BINARY_DIR}/pyagent.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/FORMAT.md ${CMAKE_SOURCE_DIR}/docs/AGENT.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Debian package. The agent dlopens libmimalloc.so.2 and (for PYAGENT_EVENTS) libpfm.so.4,
# which dpkg-shlibdeps cannot see, so they are named here.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pyagent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "In-process performance agent for CPython: CPU sampling, leak tracking, execution traces")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "pyagent developers <pyagent@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libmimalloc2.0")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libpfm4, python3")
include(CPack)
