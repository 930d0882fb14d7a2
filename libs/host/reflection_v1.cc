#include "libs/host/reflection_v1.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "libs/host/rpc.h"

namespace takt::host {
namespace {

namespace v1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// `file` and the files it imports, each once (`sent`), the file asked for
// first. Each answer holds them all, as gRPC's v1alpha does: a client may
// ask again for a file it has had.
void AddFile(const FileDescriptor* file, std::set<std::string>* sent, v1::FileDescriptorResponse* out) {
  if (!sent->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), sent, out);
}

// What the client named is echoed shortened and as valid UTF-8 (a proto3
// string; clients refuse the answer otherwise).
void NotFound(v1::ServerReflectionResponse* response, std::string message) {
  response->mutable_error_response()->set_error_code(static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  response->mutable_error_response()->set_error_message(ValidUtf8(message));
}

}  // namespace

ReflectionV1Service::ReflectionV1Service(std::vector<std::string> services) : services_(std::move(services)) {
  // Links the health descriptors in (nothing else names them), so the
  // health service can be described.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  for (const char* s : {"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                        "grpc.reflection.v1alpha.ServerReflection"}) {
    if (std::find(services_.begin(), services_.end(), s) == services_.end()) services_.push_back(s);
  }
  std::sort(services_.begin(), services_.end());
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<v1::ServerReflectionResponse, v1::ServerReflectionRequest>* stream) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  v1::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    std::set<std::string> sent;
    v1::ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    switch (request.message_request_case()) {
      case v1::ServerReflectionRequest::kListServices:
        for (const std::string& s : services_) response.mutable_list_services_response()->add_service()->set_name(s);
        break;
      case v1::ServerReflectionRequest::kFileByFilename: {
        const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
        if (file == nullptr) {
          NotFound(&response, absl::StrCat("no file ", request.file_by_filename().substr(0, 200)));
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kFileContainingSymbol: {
        const FileDescriptor* file = pool->FindFileContainingSymbol(request.file_containing_symbol());
        if (file == nullptr) {
          NotFound(&response, absl::StrCat("no symbol ", request.file_containing_symbol().substr(0, 200)));
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const google::protobuf::Descriptor* type = pool->FindMessageTypeByName(ext.containing_type());
        const google::protobuf::FieldDescriptor* field =
            type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ext.extension_number());
        if (field == nullptr) {
          NotFound(&response, absl::StrCat("no extension ", ext.extension_number(), " of ",
                                           ext.containing_type().substr(0, 200)));
        } else {
          AddFile(field->file(), &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const google::protobuf::Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) {
          NotFound(&response, absl::StrCat("no type ", request.all_extension_numbers_of_type().substr(0, 200)));
        } else {
          std::vector<const google::protobuf::FieldDescriptor*> extensions;
          pool->FindAllExtensions(type, &extensions);
          auto* out = response.mutable_all_extension_numbers_response();
          out->set_base_type_name(type->full_name());
          for (const auto* e : extensions) out->add_extension_number(e->number());
        }
        break;
      }
      default:
        response.mutable_error_response()->set_error_code(static_cast<int32_t>(grpc::StatusCode::INVALID_ARGUMENT));
        response.mutable_error_response()->set_error_message("the request names nothing to look up");
    }
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace takt::host
