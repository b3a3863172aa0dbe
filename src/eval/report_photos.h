// The report's photo parts (internal to src/eval): the per-photo table, and for the photos shown
// the annotated overlays (imgproc/annotated_overlay.h, as `qseg segment` draws them) and the
// error map. report.cc assembles them.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "eval/report.h"

namespace qseg::report {

std::string percent(double fraction);
std::string model_label(const EvalResult& result, size_t m);
// Names of the classes in a photo's labels (scored pixels), in class order.
std::string classes_present(const ConfusionMatrix& photo, const ClassSet& classes);

// Every scored photo, worst mIoU (of model 0) first: name, mIoU, pixel accuracy, classes present.
void append_photo_table(const EvalResult& result, std::string* html);
// A section of photos, each drawn once (a photo drawn before is only named).
Status append_photo_section(const EvalResult& result, const std::string& heading,
                            const std::vector<int>& indices, const ReportOptions& options,
                            std::set<int>* shown, std::string* html);

}  // namespace qseg::report
