import Hummingbird

/// GET /v1/models and /v1/models/{id}: the served models.
struct ModelsRoute {
    let server: LabServer
    func register(on router: ServeRouter) {
        router.get("/v1/models") { [server] _, _ in
            try JSONResponse.make(ModelList(data: server.modelNames.map(server.entry)))
        }
        router.get("/v1/models/{id}") { [server] _, context in
            let id = context.parameters.get("id") ?? ""
            let worker = try server.worker(id)
            return try JSONResponse.make(server.entry(worker.name))
        }
    }
}

extension LabServer {
    func entry(_ name: String) -> ModelEntry { ModelEntry(id: name, created: started, owned_by: "lmlab") }
}
