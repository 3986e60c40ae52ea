import Foundation

/// gate[i] = gelu(gate[i]) · up[i] with the tanh approximation
/// gelu(v) = 0.5·v·(1 + tanh(√(2/π)·v·(1 + 0.044715·v²))).   gate, up: [count].
/// The GeGLU feed-forward of gemma.
///
/// As llama.cpp's CPU backend computes it (`ggml_vec_geglu_f32` with GGML_GELU_FP16):
/// v ≤ −10 gives 0, v ≥ 10 gives v; otherwise v is rounded to fp16 and gelu is read
/// from a 65,536-entry table of fp16 results, each entry computed in float as GCC
/// compiles ggml's formula (one fused multiply-add inside). Both versions read the same
/// table; the reference computes the entry it needs, the fast one looks it up.
public func geluTanhGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int, mode: KernelMode = .fast) {
    if mode == .reference {
        for i in 0..<count {
            let v = gate[i]
            let g: Float = v <= -10 ? 0 : v >= 10 ? v : roundedToHalf(ggmlGELU(roundedToHalf(v)))
            gate[i] = v <= -10 ? 0 : g * up[i]
        }
        return
    }
    let table = GELUTable.values
    for i in 0..<count {
        let v = gate[i]
        if v <= -10 { gate[i] = 0 } else if v >= 10 { gate[i] = v * up[i] } else {
            gate[i] = table[Int(floatToHalf(v))] * up[i]
        }
    }
}

/// ggml's `ggml_gelu_f32` as GCC contracts it: (0.5·x)·(1 + tanhf((√(2/π)·x)·fma(x, 0.044715·x, 1))).
public func ggmlGELU(_ x: Float) -> Float {
    let sqrt2OverPi: Float = 0.79788456080286535587989211986876
    let coefA: Float = 0.044715
    let inner = Float(1).addingProduct(x, coefA * x)
    return (0.5 * x) * (1 + tanhf((sqrt2OverPi * x) * inner))
}

/// gelu of every fp16 value, rounded to fp16, as floats, indexed by the fp16 bits (256 KiB).
enum GELUTable {
    static let values: UnsafePointer<Float> = {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: 65536)
        for i in 0..<65536 { t[i] = roundedToHalf(ggmlGELU(halfToFloat(UInt16(i)))) }
        return UnsafePointer(t)
    }()
}
