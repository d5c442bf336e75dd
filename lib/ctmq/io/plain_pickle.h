#pragma once
// torch::pickle_save without TorchScript's type tags, so that PyTorch's weights-only unpickler
// (the default of `torch.load` from PyTorch 2.6 on) accepts the file.

#include <torch/torch.h>

#include <vector>

namespace ctmq {

/// The bytes of `torch.save`'s zip layout (archive/data.pkl plus one record per tensor
/// storage) holding `value`: dicts, lists, strings, numbers and CPU tensors. torch::pickle_save
/// writes the same layout but wraps every dict and list in
/// `torch.jit._pickle.restore_type_tag(...)`, a global that weights-only loading refuses; here
/// dicts and lists are plain, so `torch.load(path)` works on PyTorch 1.x and 2.x alike and
/// torch::pickle_load reads the result back (as Dict[Any, Any]).
std::vector<char> pickle_save_plain(const c10::IValue& value);

}  // namespace ctmq
