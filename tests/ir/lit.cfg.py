# lit configuration for the IR tests: each .loom file holds RUN lines (loom-opt piped into FileCheck) and the
# function they act on. ctest runs lit with the tool directories as parameters.
import os

import lit.formats

config.name = "loom-ir"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".loom"]
config.excludes = ["roundtrip.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = lit_config.params.get("exec_root", os.path.join(os.path.dirname(__file__), "Output"))
path = [lit_config.params["loom_tools"], lit_config.params["llvm_bin"], config.environment.get("PATH", os.environ["PATH"])]
config.environment["PATH"] = os.pathsep.join(path)
