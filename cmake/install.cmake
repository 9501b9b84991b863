# Installable CMake package: find_package(frontmcp) from an install prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Two export sets: the core (frontmcp::frontmcp, always) and the cluster component
# (frontmcp::cluster with the Redis client it needs), loaded by
# find_package(frontmcp COMPONENTS cluster) only: a standalone server never links Redis code.
install(TARGETS frontmcp EXPORT frontmcpTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS frontmcp_redis frontmcp_cluster EXPORT frontmcpClusterTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/frontmcp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS frontmcp-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT frontmcpTargets NAMESPACE frontmcp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/frontmcp)
install(EXPORT frontmcpClusterTargets NAMESPACE frontmcp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/frontmcp)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/frontmcpConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/frontmcpConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/frontmcp)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/frontmcpConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/frontmcpConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/frontmcpConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/frontmcp)
