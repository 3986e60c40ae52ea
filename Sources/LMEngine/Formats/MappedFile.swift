#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A read-only memory mapping of a whole file.
///
/// Weights are read in place through `base`, so the mapping must outlive every
/// pointer handed out; owners keep a strong reference to this object.
public final class MappedFile: @unchecked Sendable {
    /// First byte of the file. Valid for `size` bytes while `self` is alive.
    public let base: UnsafeRawPointer
    public let size: Int
    public let path: String

    /// A 1-byte buffer standing in for an empty file (mmap refuses length 0).
    private let ownsMapping: Bool

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        size = Int(info.st_size)
        if size == 0 {
            // Nothing to map; a static empty buffer keeps `base` non-null.
            base = UnsafeRawPointer(MappedFile.emptyByte)
            ownsMapping = false
            return
        }
        // MAP_PRIVATE + PROT_READ: pages come from the page cache, never copied.
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(address)
        ownsMapping = true
    }

    deinit {
        if ownsMapping { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    private static let emptyByte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

    /// Tells the kernel the pages wholly inside bytes offset..<offset+count are not needed
    /// now: they leave this process's resident memory and are read from the page cache
    /// again if touched (the mapping is private and read-only, so nothing is lost).
    public func release(offset: Int, count: Int) {
        guard ownsMapping, offset >= 0, count > 0, offset + count <= size else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page, end = (offset + count) / page * page
        guard start < end else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    /// The bytes `range` as a buffer into the mapping (no copy).
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range outside the mapping")
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}
