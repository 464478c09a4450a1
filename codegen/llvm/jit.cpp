#include "loom/codegen/llvm/jit.h"

#include <mutex>

#include <fmt/format.h>

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include "loom/codegen/llvm/kernel_emitter.h"
#include "loom/codegen/llvm/object_cache.h"

namespace loom::codegen::llvm_backend {

namespace {

template <class T>
T take(llvm::Expected<T> value, const char* what) {
  if (!value) throw Error(std::string("llvm backend: ") + what + ": " + llvm::toString(value.takeError()));
  return std::move(*value);
}

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // The loop vectorizer turns exp/log/pow into calls to glibc's vector math library; the JIT finds them in
    // the process once it is loaded.
    std::string error;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1", &error))
      throw Error("llvm backend: cannot load libmvec.so.1: " + error);
  });
}

/// Vector variants of glibc's libmvec that LLVM 19's LIBMVEC_X86 table lacks: tanh, log1p and expm1 (glibc 2.35+)
/// and every AVX-512 variant (LLVM maps only up to AVX2, 8 floats). Chosen over SLEEF because LLVM 19 maps
/// SLEEF's GNU-ABI names for AArch64 only, and libmvec ships with glibc (documented bound: 4 ulp).
void add_libmvec_variants(llvm::TargetLibraryInfoImpl& tlii, bool avx512) {
  struct Function {
    const char* name;
    const char* intrinsic;  ///< "llvm.<name>" when LLVM has one
    int arity;
  };
  constexpr Function kFunctions[] = {{"exp", "llvm.exp", 1},   {"log", "llvm.log", 1}, {"pow", "llvm.pow", 2},
                                     {"tanh", nullptr, 1},     {"log1p", nullptr, 1},  {"expm1", nullptr, 1}};
  struct Isa {
    char code;
    int float_lanes;
  };
  static std::vector<std::string> names;  // VecDesc holds StringRefs: the strings must outlive every TLII
  static std::vector<llvm::VecDesc> descriptors;
  if (descriptors.empty()) {
    names.reserve(256);
    for (Isa isa : {Isa{'d', 8}, Isa{'e', 16}})
      for (const Function& f : kFunctions)
        for (bool single : {true, false}) {
          int lanes = single ? isa.float_lanes : isa.float_lanes / 2;
          std::string params(static_cast<std::size_t>(f.arity), 'v');
          std::string suffix = single ? "f" : "";
          std::string vector = fmt::format("_ZGV{}N{}{}_{}{}", isa.code, lanes, params, f.name, suffix);
          std::string abi = fmt::format("_ZGV_LLVM_N{}{}", lanes, params);
          std::vector<std::string> scalars{std::string(f.name) + suffix};
          if (f.intrinsic) scalars.push_back(fmt::format("{}.{}", f.intrinsic, single ? "f32" : "f64"));
          for (const std::string& scalar : scalars) {
            names.push_back(scalar);
            const std::string& scalar_name = names.back();
            names.push_back(vector);
            const std::string& vector_name = names.back();
            names.push_back(abi);
            descriptors.emplace_back(scalar_name, vector_name, llvm::ElementCount::getFixed(static_cast<unsigned>(lanes)),
                                     false, names.back());
          }
        }
  }
  std::vector<llvm::VecDesc> usable;
  for (const llvm::VecDesc& d : descriptors)
    if (avx512 || d.getVectorFnName().substr(4, 1) != "e") usable.push_back(d);
  tlii.addVectorizableFunctions(usable);
}

/// O3 for the host CPU, with libmvec as the vector library and 512-bit vectors where the CPU has them.
void optimize(llvm::Module& module, llvm::TargetMachine& machine) {
  for (llvm::Function& f : module) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", machine.getTargetCPU());
    f.addFnAttr("target-features", machine.getTargetFeatureString());
    f.addFnAttr("prefer-vector-width", "512");
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  llvm::TargetLibraryInfoImpl tlii(machine.getTargetTriple());
  tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86, machine.getTargetTriple());
  add_libmvec_variants(tlii, machine.getTargetFeatureString().contains("+avx512f"));
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, mam);
}

/// Runs the code generator over an optimized module: an object file or assembly text.
std::string emit_file(llvm::Module& module, llvm::TargetMachine& machine, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, stream, nullptr, type)) throw Error("llvm backend: the target cannot emit this file type");
  passes.run(module);
  return std::string(buffer.begin(), buffer.end());
}

class OrcKernelModule final : public KernelModule {
 public:
  OrcKernelModule(const std::vector<const ir::Graph*>& bodies, const CompileRequest& request) {
    initialize_llvm();
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("loom", *context);
    for (const ir::Graph* body : bodies) emit_kernel(*body, *module);
    std::string problems;
    llvm::raw_string_ostream problem_stream(problems);
    if (llvm::verifyModule(*module, &problem_stream)) throw Error("llvm backend: emitted invalid IR: " + problems);

    auto target = take(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    target.setCPU(llvm::sys::getHostCPUName().str());
    target.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    std::unique_ptr<llvm::TargetMachine> machine = take(target.createTargetMachine(), "creating the target machine");
    module->setDataLayout(machine->createDataLayout());
    module->setTargetTriple(machine->getTargetTriple().str());

    // The cache key covers the unoptimized module, so a hit skips optimization and code generation.
    std::string unoptimized;
    llvm::raw_string_ostream unoptimized_stream(unoptimized);
    module->print(unoptimized_stream, nullptr);
    ObjectCache cache = ObjectCache::from_environment();
    std::string key = ObjectCache::key(unoptimized, machine->getTargetCPU().str(), machine->getTargetFeatureString().str());
    std::optional<std::string> object = request.want_text ? std::nullopt : cache.load(key);
    from_cache_ = object.has_value();
    if (!object) {
      optimize(*module, *machine);
      if (request.want_text) {
        llvm::raw_string_ostream ir_stream(ir_);
        module->print(ir_stream, nullptr);
        assembly_ = emit_file(*module, *machine, llvm::CodeGenFileType::AssemblyFile);
      }
      object = emit_file(*module, *machine, llvm::CodeGenFileType::ObjectFile);
      cache.store(key, *object);
    }
    jit_ = take(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(target).create(), "creating the JIT");
    if (auto error = jit_->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(*object, "loom-kernels")))
      throw Error("llvm backend: loading the kernels: " + llvm::toString(std::move(error)));
  }

  KernelFn lookup(const std::string& name) const override {
    return take(jit_->lookup(name), "looking up a kernel").toPtr<KernelFn>();
  }
  const std::string& llvm_ir() const override { return ir_; }
  const std::string& assembly() const override { return assembly_; }
  bool from_cache() const override { return from_cache_; }

 private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::string ir_, assembly_;
  bool from_cache_ = false;
};

}  // namespace

std::unique_ptr<KernelModule> KernelModule::compile(const std::vector<const ir::Graph*>& bodies,
                                                   const CompileRequest& request) {
  return std::make_unique<OrcKernelModule>(bodies, request);
}

}  // namespace loom::codegen::llvm_backend
