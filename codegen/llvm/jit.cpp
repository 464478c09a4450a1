#include "loom/codegen/llvm/jit.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <span>
#include <thread>

#include <fmt/format.h>

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Bitcode/BitcodeWriter.h>
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
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/SubtargetFeature.h>
#include <llvm/TargetParser/Host.h>

#include "loom/codegen/llvm/kernel_emitter.h"
#include "loom/codegen/llvm/object_cache.h"
#include "loom/ir/large_stack.h"

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
    // The loop vectorizer turns exp/log/pow/... into calls to a vector math library; the JIT finds them in the
    // process once the library is loaded.
    for (const char* library : {"libmvec.so.1", "libsleef.so.3"}) {
      std::string error;
      if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(library, &error) && std::string(library) == "libmvec.so.1")
        throw Error(std::string("llvm backend: cannot load ") + library + ": " + error);
    }
  });
}

/// The vector math library kernels call: glibc's libmvec (the default) or SLEEF, chosen with LOOM_VECLIB=sleef
/// (docs/PERFORMANCE.md compares the two). LLVM 19's LIBMVEC_X86 table stops at AVX2 and lacks tanh, log1p and
/// expm1, and its SLEEF table is for AArch64 only, so both tables are written here.
enum class VectorLibrary { libmvec, sleef };

VectorLibrary vector_library() {
  const char* choice = std::getenv("LOOM_VECLIB");
  if (!choice || std::string(choice) == "libmvec") return VectorLibrary::libmvec;
  if (std::string(choice) == "sleef") return VectorLibrary::sleef;
  throw Error(std::string("LOOM_VECLIB must be libmvec or sleef, not ") + choice);
}

/// The vector variant of `name` (`single`: float) with `lanes` lanes and `arity` vector arguments.
std::string vector_name(VectorLibrary library, const char* name, bool single, int lanes, int arity, bool avx512) {
  if (library == VectorLibrary::sleef) return fmt::format("Sleef_{}{}{}_u10", name, single ? "f" : "d", lanes);
  return fmt::format("_ZGV{}N{}{}_{}{}", avx512 ? 'e' : 'd', lanes, std::string(static_cast<std::size_t>(arity), 'v'),
                     name, single ? "f" : "");
}

void add_vector_variants(llvm::TargetLibraryInfoImpl& tlii, VectorLibrary library, bool avx512) {
  struct Function {
    const char* name;
    const char* intrinsic;  ///< "llvm.<name>" when LLVM has one
    int arity;
  };
  constexpr Function kFunctions[] = {{"exp", "llvm.exp", 1},   {"log", "llvm.log", 1}, {"pow", "llvm.pow", 2},
                                     {"tanh", nullptr, 1},     {"log1p", nullptr, 1},  {"expm1", nullptr, 1},
                                     {"cos", "llvm.cos", 1}};
  // VecDesc holds StringRefs: the strings live as long as the process (one table per library and ISA). Threads
  // compiling parts of one module at once fill the tables under a lock.
  static std::mutex tables_lock;
  std::lock_guard lock(tables_lock);
  static std::map<std::pair<int, bool>, std::pair<std::deque<std::string>, std::vector<llvm::VecDesc>>> tables;
  auto& [names, descriptors] = tables[{static_cast<int>(library), avx512}];
  if (descriptors.empty()) {
    for (bool wide : {false, true}) {
      if (wide && !avx512) continue;
      for (const Function& f : kFunctions)
        for (bool single : {true, false}) {
          int lanes = (wide ? 16 : 8) / (single ? 1 : 2);
          std::string params(static_cast<std::size_t>(f.arity), 'v');
          names.push_back(vector_name(library, f.name, single, lanes, f.arity, wide));
          const std::string& vector = names.back();
          names.push_back(fmt::format("_ZGV_LLVM_N{}{}", lanes, params));
          const std::string& abi = names.back();
          std::vector<std::string> scalars{std::string(f.name) + (single ? "f" : "")};
          if (f.intrinsic) scalars.push_back(fmt::format("{}.{}", f.intrinsic, single ? "f32" : "f64"));
          for (const std::string& scalar : scalars) {
            names.push_back(scalar);
            descriptors.emplace_back(names.back(), vector, llvm::ElementCount::getFixed(static_cast<unsigned>(lanes)),
                                     false, abi);
          }
        }
    }
  }
  tlii.addVectorizableFunctions(descriptors);
}

bool has_feature(const llvm::TargetMachine& machine, const char* feature) {
  return machine.getMCSubtargetInfo()->checkFeatures(std::string("+") + feature);
}

/// The target machine for `cpu` (CompileRequest::target_cpu: "host" is this CPU with every feature it has; an LLVM
/// CPU name must not need a feature this CPU lacks, or its code would stop at the first such instruction).
std::unique_ptr<llvm::TargetMachine> target_machine(llvm::orc::JITTargetMachineBuilder& target, std::string cpu) {
  if (const char* env = std::getenv("LOOM_TARGET_CPU"); cpu.empty() && env) cpu = env;
  bool host = cpu.empty() || cpu == "host";
  target.setCPU(host ? llvm::sys::getHostCPUName().str() : cpu);
  if (!host) target.getFeatures() = llvm::SubtargetFeatures();  // the named CPU's own features
  target.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  std::unique_ptr<llvm::TargetMachine> machine = take(target.createTargetMachine(), "creating the target machine");
  if (host) return machine;
  if (!machine->getMCSubtargetInfo()->isCPUStringValid(cpu))
    throw Error(fmt::format("llvm backend: unknown target CPU '{}' (LOOM_TARGET_CPU or CompileOptions::target_cpu; "
                            "e.g. host, x86-64-v3, x86-64-v4, skylake-avx512)", cpu));
  for (const auto& feature : llvm::sys::getHostCPUFeatures())
    if (!feature.getValue() && has_feature(*machine, feature.getKey().str().c_str()))
      throw Error(fmt::format("llvm backend: target CPU '{}' uses {}, which this CPU ({}) lacks", cpu, feature.getKey().str(),
                              llvm::sys::getHostCPUName().str()));
  return machine;
}

/// O3 (less two passes, below) for the target CPU, with libmvec as the vector library and 512-bit vectors where
/// the CPU has them.
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
  // O3 without two passes that find nothing in loom's kernels and were 30% of the optimizer's time on deep
  // graphs (their queries are pairwise over a kernel's accesses): dead store elimination (a kernel stores each
  // result once) and loop load elimination (which forwards stores to loads of later iterations: none of a loop
  // kernel's iterations reads what another wrote, and row kernels reread a row only in a later loop). Measured
  // on softmax, relu(a * b + c) and an MLP training step: the same instructions, or fewer.
  llvm::PassInstrumentationCallbacks instrumentation;
  instrumentation.registerShouldRunOptionalPassCallback([](llvm::StringRef pass, llvm::Any) {
    return pass != "DSEPass" && pass != "LoopLoadEliminationPass";
  });
  llvm::PassBuilder builder(&machine, llvm::PipelineTuningOptions(), std::nullopt, &instrumentation);
  llvm::TargetLibraryInfoImpl tlii(machine.getTargetTriple());
  add_vector_variants(tlii, vector_library(), has_feature(machine, "avx512f"));
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

/// A part of a compile: some of the kernels, in a module of their own, as an object file (and its text when asked).
struct CompiledPart {
  std::string object, ir, assembly;
  bool from_cache = false;
};

/// Emits `kernels` into a module, then optimizes and compiles it for `target` (configured by target_machine), or
/// loads the object from the disk cache. Runs on any thread: every LLVM object it uses is its own.
CompiledPart compile_part(std::span<const KernelSource> kernels, llvm::orc::JITTargetMachineBuilder target,
                          const CompileRequest& request) {
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("loom", *context);
  for (const KernelSource& kernel : kernels) emit_kernel(kernel, *module);
  std::string problems;
  llvm::raw_string_ostream problem_stream(problems);
  if (llvm::verifyModule(*module, &problem_stream)) throw Error("llvm backend: emitted invalid IR: " + problems);

  std::unique_ptr<llvm::TargetMachine> machine = take(target.createTargetMachine(), "creating the target machine");
  module->setDataLayout(machine->createDataLayout());
  module->setTargetTriple(machine->getTargetTriple().str());

  // The cache key covers the unoptimized module (as bitcode: writing it takes a quarter of the time of printing it
  // as text), so a hit skips optimization and code generation. No key is made when the cache is off.
  ObjectCache cache = ObjectCache::from_environment();
  std::string key;
  if (cache.enabled()) {
    std::string bitcode;
    llvm::raw_string_ostream bitcode_stream(bitcode);
    llvm::WriteBitcodeToFile(*module, bitcode_stream);
    key = ObjectCache::key(bitcode, machine->getTargetCPU().str(),
                           machine->getTargetFeatureString().str() +
                               (vector_library() == VectorLibrary::sleef ? ",veclib=sleef" : ""));
  }
  CompiledPart part;
  std::optional<std::string> object = request.want_text ? std::nullopt : cache.load(key);
  part.from_cache = object.has_value();
  if (!object) {
    optimize(*module, *machine);
    if (request.want_text) {
      llvm::raw_string_ostream ir_stream(part.ir);
      module->print(ir_stream, nullptr);
      part.assembly = emit_file(*module, *machine, llvm::CodeGenFileType::AssemblyFile);
    }
    object = emit_file(*module, *machine, llvm::CodeGenFileType::ObjectFile);
    cache.store(key, *object);
  }
  part.object = std::move(*object);
  return part;
}

/// Below this many ops in all, kernels compile on the calling thread: a thread and a module of its own cost more
/// than they save.
constexpr std::size_t kMinOpsPerPart = 1000;
/// Parts per compiling thread, so that threads finishing early take more work.
constexpr std::size_t kPartsPerThread = 8;

/// Splits `kernels` into contiguous parts of about equal op counts, a few per compiling thread, and compiles them
/// at once, each thread taking the next part when it is done (kernels of equal size can take very different times).
/// LLVM's time grows with the ops; kernels are independent functions, so splitting changes no code.
std::vector<CompiledPart> compile_parts(const std::vector<KernelSource>& kernels,
                                        const llvm::orc::JITTargetMachineBuilder& target, const CompileRequest& request) {
  std::size_t ops = 0;
  for (const KernelSource& kernel : kernels) ops += kernel.body->num_nodes();
  std::size_t cores = request.threads > 0 ? static_cast<std::size_t>(request.threads) : std::thread::hardware_concurrency();
  std::size_t threads = std::max<std::size_t>(1, std::min({cores, kernels.size(), ops / kMinOpsPerPart}));
  std::size_t parts = threads == 1 ? 1 : std::min(kernels.size(), threads * kPartsPerThread);
  std::vector<std::span<const KernelSource>> spans;
  std::size_t begin = 0, done = 0;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    done += kernels[k].body->num_nodes();
    if (done * parts >= ops * (spans.size() + 1) || k + 1 == kernels.size()) {
      spans.emplace_back(kernels.data() + begin, k + 1 - begin);
      begin = k + 1;
    }
  }
  if (spans.empty()) spans.emplace_back();
  std::vector<CompiledPart> compiled(spans.size());
  std::vector<std::exception_ptr> errors(spans.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t p; (p = next++) < spans.size();) {
      try {
        compiled[p] = compile_part(spans[p], target, request);
      } catch (...) {
        errors[p] = std::current_exception();
      }
    }
  };
  {
    // Helper threads run on a large stack, as compile() does (the emitter recurses along chains of ops).
    std::vector<std::jthread> helpers;
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back([&] { ir::run_on_large_stack(work); });
    work();
  }
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
  return compiled;
}

class OrcKernelModule final : public KernelModule {
 public:
  OrcKernelModule(const std::vector<KernelSource>& kernels, const CompileRequest& request) {
    initialize_llvm();
    auto target = take(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    target_machine(target, request.target_cpu);  // checks the CPU, and sets it and its features on `target`
    std::vector<CompiledPart> parts = compile_parts(kernels, target, request);
    jit_ = take(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(target).create(), "creating the JIT");
    from_cache_ = true;
    for (CompiledPart& part : parts) {
      ir_ += part.ir;
      assembly_ += part.assembly;
      from_cache_ = from_cache_ && part.from_cache;
      if (auto error = jit_->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(part.object, "loom-kernels")))
        throw Error("llvm backend: loading the kernels: " + llvm::toString(std::move(error)));
    }
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

std::unique_ptr<KernelModule> KernelModule::compile(const std::vector<KernelSource>& kernels,
                                                   const CompileRequest& request) {
  return std::make_unique<OrcKernelModule>(kernels, request);
}

}  // namespace loom::codegen::llvm_backend
