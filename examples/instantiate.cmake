# cmake -DIN=template -DOUT=file -DVALUES=KEY=value,... -P instantiate.cmake: replaces each
# @KEY@ of a kernel template (bench/nvidia/kernels/*.mlir.in) by its value.
file(READ ${IN} text)
string(REPLACE "," ";" pairs "${VALUES}")
foreach(pair ${pairs})
  string(REPLACE "=" ";" kv "${pair}")
  list(GET kv 0 key)
  list(GET kv 1 value)
  string(REPLACE "@${key}@" "${value}" text "${text}")
endforeach()
if(text MATCHES "@[A-Z]+@")
  message(FATAL_ERROR "${IN}: unreplaced ${CMAKE_MATCH_0}")
endif()
file(WRITE ${OUT} "${text}")
