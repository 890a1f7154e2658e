# test_layering: builds the two probes of tests/layering against module io's include
# path. The allowed include (scene/) must compile; the one against the layers
# (segment/) must fail, because io/ cannot see segment/'s headers.
foreach(probe allowed violation)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD} --target layering_probe_${probe}
                  RESULT_VARIABLE rc_${probe} OUTPUT_VARIABLE out_${probe} ERROR_VARIABLE out_${probe})
endforeach()
if(NOT rc_allowed EQUAL 0)
  message(FATAL_ERROR "io/ including scene/ (which it uses) did not build:\n${out_allowed}")
endif()
if(rc_violation EQUAL 0)
  message(FATAL_ERROR "io/ including segment/ (a module above it) built; the layering is not enforced")
endif()
if(NOT out_violation MATCHES "segment/geometric.h: No such file")
  message(FATAL_ERROR "io/ including segment/ failed, but not because the header is out of reach:\n${out_violation}")
endif()
message(STATUS "layering holds: io/ sees scene/, not segment/")
