"""Factories for the resource library."""

from __future__ import annotations


class ResourceFactories:
    def resource(self, owner=None, title: str | None = None, visibility: str = "public", *, communities=(),
                 partnerships=(), **kwargs):
        from portal.resources.models import Resource, ResourceAudience
        from portal.resources.search import search_text_of

        owner = owner or self.user("teacher")
        title = title or f"资源{self._n()}"
        description = kwargs.pop("description", "")
        tags = kwargs.pop("tags", "")
        resource = Resource(
            title=title, description=description, tags=tags, search_text=search_text_of(title, description, tags),
            kind=kwargs.pop("kind", "lesson_plan"), subject=kwargs.pop("subject", "math"),
            stage=kwargs.pop("stage", "primary"), visibility=visibility, owner_id=owner.id,
            school_id=owner.school_id, county_id=owner.scope_county_id, **kwargs,
        )
        resource.audiences = [ResourceAudience(community_id=c.id) for c in communities] + [
            ResourceAudience(partnership_id=p.id) for p in partnerships]
        self.db.session.add(resource)
        self.db.session.commit()
        return resource

    def resource_version(self, resource, data: bytes = b"%PDF-1.4 test", name: str = "教案.pdf"):
        """A real stored file as the resource's new current version."""
        import io

        from werkzeug.datastructures import FileStorage

        from portal.core.uploads import save_upload
        from portal.resources.models import ResourceVersion

        saved = save_upload(FileStorage(stream=io.BytesIO(data), filename=name), kinds={"pdf", "image", "office",
                            "text", "video", "audio"}, max_bytes=10_000_000)
        number = 1 + len([v for v in self.db.session.query(ResourceVersion).filter_by(resource_id=resource.id)])
        version = ResourceVersion(resource_id=resource.id, number=number, stored_name=saved.stored_name,
                                  original_name=saved.original_name, content_type=saved.content_type,
                                  size=saved.size, sha256=saved.sha256, uploaded_by_id=resource.owner_id)
        self.db.session.add(version)
        self.db.session.flush()
        resource.current_version_id = version.id
        self.db.session.commit()
        return version
