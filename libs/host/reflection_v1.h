// File: reflection_v1.h
// -----------------------------------------------------------------------------
// gRPC server reflection v1 (grpc.reflection.v1.ServerReflection), what
// grpcurl and buf curl ask first. Debian's gRPC 1.51 serves only v1alpha
// (the host serves both); this answers v1 from the same place, the
// descriptors compiled into the binary (the generated pool).
#ifndef TAKT_LIBS_HOST_REFLECTION_V1_H_
#define TAKT_LIBS_HOST_REFLECTION_V1_H_

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace takt::host {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the full names list_services answers (the server's own;
  // health and both reflection versions are added).
  explicit ReflectionV1Service(std::vector<std::string> services);

  // Each request is answered in order: list_services, file_by_filename,
  // file_containing_symbol, file_containing_extension,
  // all_extension_numbers_of_type. A file comes with every file it
  // imports, directly or not. What is not known gets an
  // error_response NOT_FOUND, and the stream goes on.
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  std::vector<std::string> services_;
};

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_REFLECTION_V1_H_
