import Hummingbird

/// GET /health: {"status": "ok"} while the server runs (llama-server's shape; needs no key).
struct HealthRoute {
    let server: LabServer
    func register(on router: ServeRouter) {
        router.get("/health") { _, _ in
            try JSONResponse.make(["status": "ok"])
        }
    }
}
