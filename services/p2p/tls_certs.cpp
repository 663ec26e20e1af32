#include "p2p/tls_certs.h"

#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include <chrono>

namespace fides::p2p {

namespace {
constexpr std::uint32_t kCaYears = 20;
constexpr std::uint32_t kNodeYears = 5;
constexpr std::uint32_t kYear = 365u * 24 * 3600;
}  // namespace

Result<PemPair> createCertificateAuthority(const std::string& chainId) {
    try {
        Botan::AutoSeeded_RNG rng;
        Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
        Botan::X509_Cert_Options opts("Fides CA " + chainId + "//Fides/validators", kCaYears * kYear);
        opts.CA_key(1);
        Botan::X509_Certificate cert = Botan::X509::create_self_signed_cert(opts, key, "SHA-256", rng);
        return PemPair{Botan::PKCS8::PEM_encode(key), cert.PEM_encode()};
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot create the certificate authority: ") + e.what());
    }
}

Result<PemPair> issueNodeCertificate(const PemPair& ca, const std::string& nodeName) {
    try {
        Botan::AutoSeeded_RNG rng;
        Botan::DataSource_Memory caKeySrc(ca.keyPem);
        std::unique_ptr<Botan::Private_Key> caKey = Botan::PKCS8::load_key(caKeySrc);
        Botan::DataSource_Memory caCertSrc(ca.certPem);
        Botan::X509_Certificate caCert(caCertSrc);
        Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
        Botan::X509_Cert_Options opts(nodeName + "//Fides/validators", kNodeYears * kYear);
        opts.dns = kTlsServerName;
        opts.add_ex_constraint("PKIX.ServerAuth");
        opts.add_ex_constraint("PKIX.ClientAuth");
        Botan::PKCS10_Request req = Botan::X509::create_cert_req(opts, key, "SHA-256", rng);
        Botan::X509_CA authority(caCert, *caKey, "SHA-256", rng);
        const auto now = std::chrono::system_clock::now();
        Botan::X509_Certificate cert = authority.sign_request(
            req, rng, Botan::X509_Time(now - std::chrono::hours(1)),
            Botan::X509_Time(now + std::chrono::seconds(std::uint64_t{kNodeYears} * kYear)));
        return PemPair{Botan::PKCS8::PEM_encode(key), cert.PEM_encode()};
    } catch (const std::exception& e) {
        return Status::internal(std::string("cannot issue the node certificate: ") + e.what());
    }
}

Result<crypto::Hash256> certificateDigest(const std::string& pem) {
    try {
        Botan::DataSource_Memory src(pem);
        const Botan::X509_Certificate cert(src);
        const std::vector<std::uint8_t> der = cert.BER_encode();
        return crypto::sha256({der.data(), der.size()});
    } catch (const std::exception& e) {
        return Status::invalidArgument(std::string("not a certificate: ") + e.what());
    }
}

}  // namespace fides::p2p
