# The install layout and the .deb (docs/deploy.md): bin/progress-hub and bin/progress-watch, the
# demo and the package under share/progress-hub/web, the systemd unit, the example env file and the
# deployment guide under share/doc/progress-hub. `cpack -G DEB` packs the same tree.
include(GNUInstallDirs)

set(PROGRESS_WEBDIR_REL ${CMAKE_INSTALL_DATADIR}/progress-hub/web)
set(PROGRESS_DOCDIR_REL ${CMAKE_INSTALL_DATADIR}/doc/progress-hub)

install(TARGETS progress-hub progress-watch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The web root: the demo page and the package's sources. The wasm module (web/dist) exists only
# after an Emscripten build, the tarball only after toolchains/pack.sh: installed when present.
set(_web ${PROJECT_SOURCE_DIR}/web)
install(FILES ${_web}/index.html ${_web}/package.json DESTINATION ${PROGRESS_WEBDIR_REL})
install(DIRECTORY ${_web}/demo ${_web}/src DESTINATION ${PROGRESS_WEBDIR_REL})
install(DIRECTORY ${_web}/dist DESTINATION ${PROGRESS_WEBDIR_REL} OPTIONAL)
install(FILES ${_web}/progress-hub-client.tgz DESTINATION ${PROGRESS_WEBDIR_REL} OPTIONAL)

# Paths in the unit follow the prefix of the install, not of the configure: cpack installs with
# /usr (/usr/bin/progress-hub in the .deb), `cmake --install --prefix` with its own.
install(CODE "
  set(PROGRESS_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(PROGRESS_WEBDIR \"\${CMAKE_INSTALL_PREFIX}/${PROGRESS_WEBDIR_REL}\")
  set(PROGRESS_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${PROGRESS_DOCDIR_REL}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/packaging/progress-hub.service.in\"
                 \"${PROJECT_BINARY_DIR}/packaging/progress-hub.service\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/packaging/progress-hub.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/env.example ${PROJECT_SOURCE_DIR}/docs/deploy.md
        DESTINATION ${PROGRESS_DOCDIR_REL})

set(CPACK_PACKAGE_NAME progress-hub)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "progress-hub maintainers <progress-hub@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Dependencies from the libraries the binaries link (dpkg-shlibdeps), Debian 12's versions.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
