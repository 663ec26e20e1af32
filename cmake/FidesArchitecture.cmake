# Enforces the module graph of doc/ARCHITECTURE.md at configure time:
#  - chain-core modules link neither Qt nor gRPC/protobuf nor any services
#    or client module;
#  - services modules and the daemon/CLI binaries never reach Qt.
# A violation stops the configure step with the offending path.

function(_fides_collect_links target out_var)
  set(seen "")
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue t)
    if(t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    if(NOT TARGET ${t})
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    set(links "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${t} LINK_LIBRARIES)
      if(direct)
        list(APPEND links ${direct})
      endif()
    endif()
    get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND links ${iface})
    endif()
    foreach(l ${links})
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" l "${l}")
      if(NOT l MATCHES "^\\$<")
        list(APPEND queue ${l})
      endif()
    endforeach()
  endwhile()
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

# Fails the configure step if any of `targets` reaches a target matching `pattern`.
function(_fides_forbid targets pattern reason)
  foreach(t ${targets})
    _fides_collect_links(${t} deps)
    foreach(d ${deps})
      if(d MATCHES "${pattern}")
        message(FATAL_ERROR "architecture: ${t} links ${d}; ${reason}")
      endif()
    endforeach()
  endforeach()
endfunction()

function(fides_check_architecture)
  set(chain_core fides_util fides_crypto fides_primitives fides_state fides_storage fides_app fides_consensus
                 fides_mempool fides_node)
  set(no_qt ${chain_core} fides_notary fides_notary_module fides_appmodule fides_rpc fides_p2p fides_client fides_daemon
            fides_proto fides-node fides)
  _fides_forbid("${no_qt}" "^Qt6?::" "chain-core and services use no Qt")
  _fides_forbid("${chain_core}" "^gRPC::|^protobuf::|^fides_(proto|rpc|p2p|notary|notary_module|appmodule|client|daemon|client_common)$"
                "chain-core may not depend on anything above it")
  message(STATUS "architecture: module dependencies follow doc/ARCHITECTURE.md")
endfunction()
