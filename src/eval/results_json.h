// The JSON that `qseg eval --json` and `qseg compare --json` write: every score, the confusion
// matrices, per-photo results, bad samples and timing.
//
// Scores are fractions in [0, 1] (not percent); an absent class has "iou": null. Confusion
// matrices are {"rows": "label", "columns": "prediction", "counts": [[...N] x N]} over the
// models' N classes, listed with their names and colours.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "eval/evaluator.h"

namespace qseg {

// Where the photos came from, as given on the command line.
struct DatasetDescription {
  std::filesystem::path root;
  std::filesystem::path split;  // the resolved split file
};

// Scores of one confusion matrix: mIoU (and over which classes), pixel accuracy, per-class IoU
// and pixel counts (named by `classes`, of the matrix's class count), the matrix itself.
nlohmann::json scores_json(const ConfusionMatrix& confusion, const ClassSet& classes);

// One model: {"command": "eval", "model", "input", "data", "split", "photos": {...}, "miou",
// ..., "per_photo": [...], "best_photos", "worst_photos", "bad_samples", "timing"}.
nlohmann::json eval_json(const EvalResult& result, const DatasetDescription& data);

// Two models A and B: {"command": "compare", "models": [A scores, B scores], "miou_difference"
// (B - A), "per_class_difference", "agreement", "per_photo", "most_disagreeing", ...}.
nlohmann::json compare_json(const EvalResult& result, const DatasetDescription& data);

}  // namespace qseg
