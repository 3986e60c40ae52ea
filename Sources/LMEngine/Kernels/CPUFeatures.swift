import Foundation

/// What this CPU can run beyond the AVX2 floor, read once from the kernel's view of it
/// (Linux: the flags line of /proc/cpuinfo). An instruction the CPU lacks traps, so
/// kernels that use more than AVX2 are chosen here, at run time.
public enum CPUFeatures {
    /// AVX-VNNI and AVX-512 with VNNI (vpdpbusd on 256- and 512-bit vectors): what the
    /// LMKernelsVNNI kernels are compiled for (Zen 5, Sapphire Rapids; not Zen 3).
    /// `LMLAB_KERNELS=avx2` in the environment keeps to the AVX2 kernels on such a CPU
    /// too, to see what the others buy on one host.
    public static let vnni: Bool = ProcessInfo.processInfo.environment["LMLAB_KERNELS"] != "avx2"
        && ["avx_vnni", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"].allSatisfy(flags.contains)

    /// The flags the kernels care about, as the CPU reports them.
    public static let flags: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()
}
