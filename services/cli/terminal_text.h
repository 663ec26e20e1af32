// Text from the ledger or a proposal file, safe to show on a terminal.
//
// Labels, names and descriptions are chosen by whoever wrote them on the
// ledger; printing them raw would let escape sequences or bidirectional
// overrides make them display as something else.
#pragma once

#include <string>

namespace fides::cli {

// Control characters, C1 controls and bidirectional overrides are shown as
// \xNN / \uNNNN escapes; everything else is unchanged.
std::string printable(const std::string& s);

}  // namespace fides::cli
