"""URLs of the star-rating cycle; each part of the workflow keeps its own list."""

from .views import appeals, branch, committee, exports, parent, publicity, secretary, team

app_name = "reviews"

urlpatterns = [
    *secretary.urlpatterns,
    *parent.urlpatterns,
    *team.urlpatterns,
    *committee.urlpatterns,
    *branch.urlpatterns,
    *appeals.urlpatterns,
    *publicity.urlpatterns,
    *exports.urlpatterns,
]
