#pragma once
// SHA-256 (FIPS 180-4), for the digests a run's lineage records: which checkpoint a stage
// started from. The same digest `sha256sum` prints, so a user can check a file by hand.

#include <cstdint>
#include <string>

namespace ctmq {

/// The lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(const std::string& bytes);

/// The lowercase hex SHA-256 of a file's contents; throws IoError naming the file.
std::string file_sha256(const std::string& path);

}  // namespace ctmq
