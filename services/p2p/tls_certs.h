// TLS material for validator links: a certificate authority for the chain
// and one ECDSA P-256 certificate per validator (both serverAuth and
// clientAuth, DNS name "fides-node"), generated with Botan. Peers accept
// only certificates issued by the chain's CA; the validator key is proven
// separately on each stream (p2p handshake), bound to both certificates by
// their digests.
//
// Thread-safety: pure functions.
#pragma once

#include "crypto/hash.h"
#include "util/status.h"

#include <string>

namespace fides::p2p {

inline constexpr const char* kTlsServerName = "fides-node";

struct PemPair {
    std::string keyPem;  // PKCS#8, unencrypted: keep the file mode 0600
    std::string certPem;
};

Result<PemPair> createCertificateAuthority(const std::string& chainId);
Result<PemPair> issueNodeCertificate(const PemPair& ca, const std::string& nodeName);

// SHA-256 of the DER encoding of the first certificate in `pem`: the same
// value whichever PEM formatting carried it (a file, gRPC's auth context).
Result<crypto::Hash256> certificateDigest(const std::string& pem);

}  // namespace fides::p2p
