#include "terminal_text.h"

#include <cstdio>

namespace fides::cli {

std::string printable(const std::string& s) {
    std::string out;
    char buf[16];
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
            out += buf;
            ++i;
        } else if (c == 0xe2 && i + 2 < s.size()) {
            const unsigned cp = 0x2000u | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
                                (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
            const bool bidi = static_cast<unsigned char>(s[i + 1]) >> 6 == 2 &&
                              static_cast<unsigned char>(s[i + 2]) >> 6 == 2 &&
                              ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                               cp == 0x200e || cp == 0x200f);
            if (bidi) {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
                out += buf;
                i += 2;
            } else {
                out += static_cast<char>(c);
            }
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace fides::cli
