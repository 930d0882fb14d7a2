// File: default_address.h
// -----------------------------------------------------------------------------
// Where `takt serve` listens unless told otherwise, and so where every
// client command connects unless given --target.
#ifndef TAKT_LIBS_COMMON_DEFAULT_ADDRESS_H_
#define TAKT_LIBS_COMMON_DEFAULT_ADDRESS_H_

namespace takt {

inline constexpr char kDefaultAddress[] = "127.0.0.1:7470";

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_DEFAULT_ADDRESS_H_
