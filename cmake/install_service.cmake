# Installs btd.service and the default btd.conf. Runs inside `cmake --install`, where
# CMAKE_INSTALL_PREFIX is the prefix of this install (--prefix wins over the configured one).
# Set by cmake/install.cmake: BTD_SOURCE_DIR, BTD_GENERATED_DIR, and BTD_BINDIR,
# BTD_SYSCONFDIR, BTD_UNITDIR (each relative to the prefix, or absolute).
# file(INSTALL) puts $DESTDIR in front of every destination; the paths written into the unit are
# those of the installed system, without DESTDIR.

# The special cases of GNUInstallDirs (SYSCONFDIR is /etc for the prefixes / and /usr) must be
# worked out for this prefix, not the configured one.
set(CMAKE_INSTALL_BINDIR "${BTD_BINDIR}")
set(CMAKE_INSTALL_SYSCONFDIR "${BTD_SYSCONFDIR}")
set(CMAKE_INSTALL_LIBDIR lib)  # unused; set so GNUInstallDirs does not look for a compiler
include(GNUInstallDirs)
GNUInstallDirs_get_absolute_install_dir(btd_bindir CMAKE_INSTALL_BINDIR BINDIR)
GNUInstallDirs_get_absolute_install_dir(btd_sysconfdir CMAKE_INSTALL_SYSCONFDIR SYSCONFDIR)
if(IS_ABSOLUTE "${BTD_UNITDIR}")
  set(btd_unitdir "${BTD_UNITDIR}")
else()
  set(btd_unitdir "${CMAKE_INSTALL_PREFIX}/${BTD_UNITDIR}")
endif()

set(BTD_BINARY "${btd_bindir}/btd")
set(BTD_CONFIG_FILE "${btd_sysconfdir}/btd/btd.conf")
configure_file("${BTD_SOURCE_DIR}/systemd/btd.service.in" "${BTD_GENERATED_DIR}/btd.service"
               @ONLY)
file(INSTALL DESTINATION "${btd_unitdir}" TYPE FILE FILES "${BTD_GENERATED_DIR}/btd.service")

# The config belongs to the admin: a reinstall keeps the one that is there.
if(EXISTS "$ENV{DESTDIR}${BTD_CONFIG_FILE}")
  message(STATUS "Keeping: $ENV{DESTDIR}${BTD_CONFIG_FILE}")
else()
  file(INSTALL DESTINATION "${btd_sysconfdir}/btd" TYPE FILE
       FILES "${BTD_SOURCE_DIR}/systemd/btd.conf.sample" RENAME btd.conf)
endif()
