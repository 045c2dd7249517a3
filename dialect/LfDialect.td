//===- LfDialect.td - the lf dialect and its mask type -----*- tablegen -*-===//

#ifndef LFC_DIALECT_LFDIALECT_TD
#define LFC_DIALECT_LFDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Lf_Dialect : Dialect {
  let name = "lf";
  let summary = "Sparse-attention policies for autoregressive video generation";
  let description = [{
    The `lf` dialect describes a Light Forcing style sparsity policy: the model
    geometry, how sparsity grows from chunk to chunk (Chunk-Aware Growth), and
    which key blocks each query block attends to (Hierarchical Sparse Attention
    and other static/dynamic mask building blocks). Passes resolve the growth
    schedule and specialize the policy per chunk before code emission.
  }];
  let cppNamespace = "::mlir::lf";
  let useDefaultTypePrinterParser = 1;
  // Inherent attributes stay in the attribute dictionary: selection and chunk
  // bodies print as `{attrs} {region}`, which needs the attributes together.
  let usePropertiesForAttributes = 0;
}

class Lf_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Lf_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Lf_MaskType : Lf_Type<"Mask", "mask"> {
  let summary = "a set of kept key blocks per query block";
  let description = [{
    A mask value is, for one chunk/pass/layer/head, the set of key blocks each
    query block attends to. Static parts are known from the chunk index alone;
    dynamic parts (top-k by score) only at run time.

    ```mlir
    %cur = lf.current_chunk : !lf.mask
    ```
  }];
}

// I64Attr reads back as uint64_t, which would turn a negative size into a huge
// positive one before the verifiers see it; lf sizes read back signed.
def Lf_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                              "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

class Lf_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lf_Dialect, mnemonic, traits>;

#endif // LFC_DIALECT_LFDIALECT_TD
