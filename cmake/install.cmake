# What `cmake --install` puts where, under the install prefix (GNUInstallDirs):
#   bin/btd, bin/btctl                        stripped, unless -DBTD_INSTALL_STRIP=OFF
#   lib/systemd/system/btd.service            ExecStart and --config from the install's paths
#   <sysconfdir>/btd/btd.conf                 the sample (every key at its default); an
#                                             existing file is never replaced
#   share/man/man{1,5,8}/                     btctl(1), btd.conf(5), btd(8)
#   share/bash-completion/completions/btctl
#   share/doc/btd/                            README.md, LICENSE, CHANGELOG.md, btd.conf.sample
# <sysconfdir> follows GNUInstallDirs: /etc for the prefix /usr, <prefix>/etc for others unless
# -DCMAKE_INSTALL_SYSCONFDIR=/etc. The unit and the config are placed at install time, so
# `cmake --install --prefix P` and DESTDIR give a unit whose paths are those of the install.
include(GNUInstallDirs)

option(BTD_INSTALL_STRIP "Strip btd and btctl when installing, as cmake --install --strip does" ON)
set(BTD_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Directory of the systemd unit: relative to the install prefix, or absolute")

if(BTD_INSTALL_STRIP)
  # The generated install script strips executables when this is set (--strip sets it too).
  install(CODE "set(CMAKE_INSTALL_DO_STRIP TRUE)")
endif()
install(TARGETS btd btctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(CODE "
  set(BTD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(BTD_GENERATED_DIR \"${PROJECT_BINARY_DIR}/install-generated\")
  set(BTD_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(BTD_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(BTD_UNITDIR \"${BTD_SYSTEMD_UNITDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_service.cmake\")")

install(FILES docs/man/btctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/btd.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES docs/man/btd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/bash-completion/btctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES README.md LICENSE CHANGELOG.md systemd/btd.conf.sample
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
