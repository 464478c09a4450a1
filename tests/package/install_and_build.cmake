# Installs the loom build tree into a fresh prefix, then builds and runs the consumer project against that
# installation: find_package(loom) must work after `cmake --install`, not only from the build tree.
# Variables: LOOM_BUILD_DIR, PREFIX, CONSUMER_SOURCE, CONSUMER_BUILD, GENERATOR.
file(REMOVE_RECURSE ${PREFIX} ${CONSUMER_BUILD})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${LOOM_BUILD_DIR} --prefix ${PREFIX} COMMAND_ERROR_IS_FATAL ANY
                OUTPUT_QUIET)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${CONSUMER_BUILD} -G ${GENERATOR}
                        -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${CONSUMER_BUILD} COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CONSUMER_BUILD}/loom_package_smoke COMMAND_ERROR_IS_FATAL ANY)
