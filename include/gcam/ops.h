// gcam/ops.h — every op of the engine, one header each (forward, backward formula, options).
#pragma once

#include "gcam/ops/adaptive_avg_pool2d.h"
#include "gcam/ops/add.h"
#include "gcam/ops/avg_pool2d.h"
#include "gcam/ops/batch_norm.h"
#include "gcam/ops/batch_norm_relu.h"
#include "gcam/ops/conv2d.h"
#include "gcam/ops/conv2d_relu.h"
#include "gcam/ops/cross_entropy.h"
#include "gcam/ops/dropout.h"
#include "gcam/ops/flatten.h"
#include "gcam/ops/linear.h"
#include "gcam/ops/max_pool2d.h"
#include "gcam/ops/relu.h"
#include "gcam/ops/softmax.h"
