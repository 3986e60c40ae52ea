public enum LMLabInfo { public static let version = "0.1.0" }
