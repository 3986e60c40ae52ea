extension ComputeContext {
    /// y[t*rows + r] = Σ_c W[r, c] · x[t*cols + c] for t in 0..<n.
    /// n == 1 is decode (matrix × vector), n > 1 prefill.
    ///
    /// x: [n × cols] f32, y: [n × rows] f32 (token-major, like x).
    /// With `.q8` activations the n rows of x are quantized once into scratch, then each
    /// weight row is read once and dotted against all n (the row stays in L1 meanwhile).
    /// The rows of W are split into one contiguous chunk per thread.
    public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
        let format = BlockFormats.require(w.type)
        let rows = w.rows, cols = w.cols, rowBytes = w.rowBytes
        switch activations {
        case .q8:
            let activationType = format.activationType
            let activationFormat = BlockFormats.require(activationType)
            let aRowBytes = activationType.rowBytes(cols)!
            let a = bytes(aRowBytes * n)   // [n × aRowBytes]
            for t in 0..<n {
                activationFormat.quantizeRow(src: x + t * cols, dst: a + t * aRowBytes, count: cols)
            }
            if mode == .reference {
                for r in 0..<rows {
                    for t in 0..<n {
                        y[t * rows + r] = format.dotReference(w.data + r * rowBytes, a + t * aRowBytes, count: cols)
                    }
                }
                return
            }
            let dot = format.dot
            let activations = UnsafeRawPointer(a)
            forEachChunk(rows) { range, _ in
                for r in range {
                    let wr = w.data + r * rowBytes
                    for t in 0..<n {
                        y[t * rows + r] = dot(wr, activations + t * aRowBytes, cols)
                    }
                }
            }

        case .f32:
            // Each worker expands one weight row at a time into its own cols floats.
            let scratch = floatsPerWorker(cols)
            if mode == .reference {
                for r in 0..<rows {
                    format.dequantizeRow(src: w.data + r * rowBytes, dst: scratch, count: cols)
                    for t in 0..<n { y[t * rows + r] = dotF32Reference(scratch, x + t * cols, count: cols) }
                }
                return
            }
            let dequantize = format.dequantizeRow
            forEachChunk(rows) { range, worker in
                let row = scratch + worker * cols
                for r in range {
                    dequantize(w.data + r * rowBytes, row, cols)
                    for t in 0..<n { y[t * rows + r] = dotF32(row, x + t * cols, count: cols) }
                }
            }
        }
    }
}
