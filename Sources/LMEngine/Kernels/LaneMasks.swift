/// Lane tests and selects written in integer arithmetic.
///
/// Why not `.<` / `all(_:)` / `replacing(with:where:)`: with this project's target
/// (-target-cpu haswell) Swift lowers SIMD comparisons and mask reductions to a loop
/// that stores the vector, compares one lane at a time through memory and calls a
/// generic `max` for `all` (BENCHMARKS.md, kernel notes). Subtract-and-shift gives the
/// same masks in two vector instructions.
///
/// A mask lane is -1 (all bits set) for true and 0 for false. The comparisons are
/// exact only for operands in 0..<2^31 (so the subtraction can't overflow), which
/// every caller's operands are: magnitudes of floats and fp16 bit patterns.

/// -1 in each lane where v < limit, else 0 (v, limit in 0..<2^31).
@inline(__always)
func lanesBelow(_ v: SIMD16<UInt32>, _ limit: UInt32) -> SIMD16<Int32> {
    (unsafeBitCast(v, to: SIMD16<Int32>.self) &- Int32(bitPattern: limit)) &>> 31
}

@inline(__always)
func lanesBelow(_ v: SIMD4<UInt32>, _ limit: UInt32) -> SIMD4<Int32> {
    (unsafeBitCast(v, to: SIMD4<Int32>.self) &- Int32(bitPattern: limit)) &>> 31
}

/// Whether every lane of the mask is -1.
@inline(__always)
func allLanes(_ mask: SIMD16<Int32>) -> Bool {
    let eight = mask.lowHalf & mask.highHalf
    let four = eight.lowHalf & eight.highHalf
    let two = four.lowHalf & four.highHalf
    return (two[0] & two[1]) == -1
}

/// Lane i = whenTrue[i] where mask[i] is -1, else whenFalse[i].
@inline(__always)
func select(_ mask: SIMD16<Int32>, _ whenTrue: SIMD16<UInt32>, _ whenFalse: SIMD16<UInt32>) -> SIMD16<UInt32> {
    let m = unsafeBitCast(mask, to: SIMD16<UInt32>.self)
    return (whenTrue & m) | (whenFalse & ~m)
}

@inline(__always)
func select(_ mask: SIMD4<Int32>, _ whenTrue: SIMD4<UInt32>, _ whenFalse: SIMD4<UInt32>) -> SIMD4<UInt32> {
    let m = unsafeBitCast(mask, to: SIMD4<UInt32>.self)
    return (whenTrue & m) | (whenFalse & ~m)
}
