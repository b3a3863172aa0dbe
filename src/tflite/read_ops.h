// The operator half of the .tflite reader: TFLite's tensor types, builtin operator codes and
// options tables mapped to the IR, with an error for anything the IR does not hold (ops qseg
// cannot run are kept as OpType::kUnsupported).
#pragma once

#include "qseg/graph.h"
#include "qseg/status.h"
#include "tflite/schema_generated.h"

namespace qseg::tflite_read {

Result<DataType> map_type(::tflite::TensorType type);
// The IR's op type of a builtin code; kUnsupported for every code qseg cannot run (CUSTOM too).
OpType map_op_type(::tflite::BuiltinOperator code);
// What an unsupported op keeps of its code: the number, TFLite's name ("BUILTIN_<code>" for a
// code this schema does not name) and, for CUSTOM, the custom code ("?" when the file has none).
UnsupportedOptions unsupported_options(::tflite::BuiltinOperator code,
                                       const ::tflite::OperatorCode* oc);
// The options of an op of `type`: defaults when the file leaves the table out; strides,
// dilations, filter sizes and depth multipliers >= 1; known activations and paddings.
Result<OpOptions> read_options(OpType type, const ::tflite::Operator* op);

}  // namespace qseg::tflite_read
