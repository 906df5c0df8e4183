// core/pch.h: precompiled header of the library and the tests (LibTorch is slow to parse).
#pragma once

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>
